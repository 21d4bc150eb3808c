/**
 * Reads a `/metrics` scrape with a real Prometheus text-format parser (parse-prometheus-text-format,
 * prom2json's output shape) and checks what the parser lets through: every family has HELP text and
 * a type, every value is a number.
 */
import parsePrometheusTextFormat, { type ParsedFamily, type ParsedHistogram, type ParsedSample } from 'parse-prometheus-text-format';

/** A parsed scrape, by family name. */
export class Scrape {
  readonly families: Map<string, ParsedFamily>;

  constructor(text: string) {
    const families = parsePrometheusTextFormat(text);
    this.families = new Map(families.map((f) => [f.name, f]));
    if (this.families.size !== families.length) throw new Error('a metric family appears twice in the scrape');
    for (const f of families) {
      if (!f.help) throw new Error(`${f.name} has no HELP text`);
      if (f.type === 'UNTYPED') throw new Error(`${f.name} has no TYPE`);
      for (const m of f.metrics) {
        const values = 'buckets' in m ? [m.count, m.sum, ...Object.values(m.buckets)] : [m.value];
        for (const v of values) if (Number.isNaN(Number(v))) throw new Error(`${f.name} has a value that is not a number: ${v}`);
      }
    }
  }

  /** The family, or an error naming it. */
  family(name: string): ParsedFamily {
    const f = this.families.get(name);
    if (!f) throw new Error(`no metric family ${name} in the scrape`);
    return f;
  }

  /** The value of the sample of `name` whose labels include `labels`. */
  value(name: string, labels: Record<string, string> = {}): number {
    const sample = (this.family(name).metrics as ParsedSample[]).find((m) =>
      Object.entries(labels).every(([k, v]) => m.labels?.[k] === v),
    );
    if (!sample) throw new Error(`no sample of ${name} with ${JSON.stringify(labels)}`);
    return Number(sample.value);
  }

  /** The (only) series of histogram `name`: count, sum and cumulative bucket counts by upper bound. */
  histogram(name: string): { count: number; sum: number; buckets: Map<string, number> } {
    const h = this.family(name).metrics[0] as ParsedHistogram;
    return { count: Number(h.count), sum: Number(h.sum), buckets: new Map(Object.entries(h.buckets).map(([le, n]) => [le, Number(n)])) };
  }
}
