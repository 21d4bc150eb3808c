/**
 * The run's results: every figure a scenario measured, with its target and verdict, printed as one
 * table, written to bench/results.json and into BENCHMARKS.md between the generated-section markers.
 * Nothing here measures or estimates: a figure that could not be measured is `null` and shows "n/a".
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { DatabaseKind } from './databases.js';

/** A target a figure is held to. */
export interface Target {
  /** `>=`: at least; `<`: below. */
  op: '>=' | '<';
  /** In the figure's unit. */
  value: number;
}

/** One measured figure. */
export interface Figure {
  /** Stable machine-readable key, e.g. `api.e2e.1.machine`. */
  key: string;
  /** Which section of the table it belongs to (the list in BENCHMARKS.md). */
  section: string;
  /** What was measured, for people. */
  label: string;
  /** The database it was measured on (null for the bare limit). */
  database: DatabaseKind | null;
  /** The figure the target applies to; null when it could not be measured (shown as n/a). */
  value: number | null;
  /** Unit of `value`, e.g. `messages/s`, `ms`, `µs/delivery`, `MB`, `%`. */
  unit: string;
  /** Shown instead of `value` and its unit when set (several numbers on one line). */
  text?: string;
  /** The target, when there is one. */
  target?: Target;
  /** Whether the value is a rate to be put beside the bare undici limit. */
  rate?: boolean;
  /** Why a value is n/a, partial or skipped; or what else to know. */
  note?: string;
  /** Every other number of this measurement, for results.json. */
  details?: Record<string, number | string | boolean | null>;
}

/** PASS, MISS, or nothing when there is no target; n/a when there is a target but no value. */
export function verdictOf(f: Figure): '' | 'PASS' | 'MISS' | 'n/a' {
  if (!f.target) return '';
  if (f.value === null || !Number.isFinite(f.value)) return f.value === Infinity && f.target.op === '<' ? 'MISS' : 'n/a';
  return (f.target.op === '>=' ? f.value >= f.target.value : f.value < f.target.value) ? 'PASS' : 'MISS';
}

/** Formats a number for people: thousands separators, fewer decimals for larger values. */
export function fmt(v: number | null | undefined, decimals?: number): string {
  if (v === null || v === undefined || Number.isNaN(v)) return 'n/a';
  if (v === Infinity) return '∞';
  const d = decimals ?? (Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2);
  return v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

/** The machine the run was made on. */
export interface MachineDescription {
  cpuModel: string;
  cpuCount: number;
  memoryBytes: number;
  node: string;
  kernel: string;
  /** PostgreSQL server version per database used, e.g. { machine: "15.20", embedded: "18.1" }. */
  postgres: Partial<Record<DatabaseKind, string>>;
  /** DATABASE_URL's server without its password, when set. */
  databaseServer: string | null;
}

/** How and when the run was made. */
export interface RunDescription {
  /** The command that reproduces it. */
  command: string;
  args: string[];
  quick: boolean;
  scenarios: string[];
  /** Herald's commit, with "-dirty" when tracked files other than the bench's own output had changes. */
  commit: string;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  loadAverage: { start: number; end: number };
}

/** What the table's columns and recurring rows mean, printed under it. */
const LEGEND = [
  "of bare: the figure's rate as a share of the bare undici loop's requests/s in this run (a batch request carries 100 messages, so a batch rate can pass 100 %).",
  'CPU per delivery: utime + stime from /proc; Herald = the herald serve process(es), or for library rows the bench process (Herald\'s worker and publishMany); PostgreSQL = every postgres process on the machine.',
  "Herald peak RSS: VmHWM of the herald serve process (the largest of them, for the scale-out layout); statements: Herald's pool, from herald_db_statements_total at GET /metrics or, in process, counted on the pool.",
];

export const SECTION_START = '<!-- bench:results:start -->';
export const SECTION_END = '<!-- bench:results:end -->';

export class Report {
  readonly figures: Figure[] = [];
  /** The bare undici limit of this run, requests/s. */
  bare = NaN;

  add(f: Figure): Figure {
    this.figures.push(f);
    const shown = [f.label, dbName(f.database), resultText(f), targetText(f), verdictOf(f), this.bareText(f)].filter(Boolean).join(' | ');
    console.log(`  = ${shown}${f.note ? ` (${f.note})` : ''}`);
    return f;
  }

  /** A scenario or figure that was not run, with why. */
  skip(section: string, key: string, label: string, database: DatabaseKind | null, why: string): void {
    this.add({ key, section, label, database, value: null, unit: '', text: 'skipped', note: why });
  }

  /** The figure with this key, if measured. */
  get(key: string): Figure | undefined {
    return this.figures.find((f) => f.key === key);
  }

  private bareText(f: Figure): string {
    if (!f.rate || f.value === null || !Number.isFinite(this.bare)) return '';
    return `${fmt((f.value / this.bare) * 100, 1)} %`;
  }

  /**
   * Rows of the table, grouped by section in the order sections first appeared: figure, database,
   * result, target, verdict, share of the bare limit, note. A figure about the phase of the row above
   * it (its label starts with that label and a colon) is shown as "↳ …".
   */
  private rows(): string[][] {
    const sections = [...new Set(this.figures.map((f) => f.section))];
    const ordered = [...this.figures].sort((a, b) => sections.indexOf(a.section) - sections.indexOf(b.section));
    let parent = '';
    return ordered.map((f) => {
      const sub = parent !== '' && f.label.startsWith(`${parent}: `);
      if (!sub) parent = f.label;
      const label = sub ? `  ↳ ${f.label.slice(parent.length + 2)}` : f.label;
      return [f.section, label, dbName(f.database), resultText(f), targetText(f), verdictOf(f), this.bareText(f), f.note ?? ''];
    });
  }

  /** The table as aligned text, for the terminal. */
  table(): string {
    const head = ['', 'figure', 'database', 'result', 'target', 'verdict', 'of bare', 'note'];
    const rows = this.rows();
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (i === 7 ? 0 : [...r[i]!].length))));
    const line = (r: string[]) => r.map((c, i) => (i === 7 ? c : c + ' '.repeat(widths[i]! - [...c].length))).join('  ').trimEnd();
    return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), '', ...LEGEND].join('\n');
  }

  /** The table as Markdown, and its legend. */
  markdown(): string {
    const head = ['', 'Figure', 'Database', 'Result', 'Target', 'Verdict', 'Of bare limit', 'Note'];
    const esc = (c: string) => c.replaceAll('|', '\\|');
    const table = [head, head.map(() => '---'), ...this.rows()].map((r) => `| ${r.map(esc).join(' | ')} |`).join('\n');
    return `${table}\n\n${LEGEND.map((l) => `- ${l}`).join('\n')}`;
  }

  /** results.json: the run, the machine and every figure. */
  json(run: RunDescription, machine: MachineDescription): string {
    const figures = this.figures.map((f) => ({ ...f, verdict: verdictOf(f) || null }));
    // JSON has no infinity: a latency of a message that never arrived is written as the string "Infinity".
    const numbers = (_key: string, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? (Number.isNaN(v) ? null : String(v)) : v);
    return `${JSON.stringify({ generatedBy: 'npm run bench (bench/run.ts); DO NOT EDIT', run, machine, bareLimit: this.bare, figures }, numbers, 2)}\n`;
  }

  /** The generated section of BENCHMARKS.md (markers included). */
  section(run: RunDescription, machine: MachineDescription): string {
    const pg = Object.entries(machine.postgres).map(([k, v]) => `${v} (${k === 'machine' ? `the machine's, \`DATABASE_URL\`=${machine.databaseServer}` : 'embedded'})`);
    const mode = run.quick ? ' — a `--quick` run: smaller sizes and shorter phases, some figures skipped; not comparable with a full run' : '';
    const only = run.scenarios.join(', ');
    return [
      SECTION_START,
      '<!-- Generated by `npm run bench` (bench/report.ts) from bench/results.json. DO NOT EDIT between these markers: the next run rewrites it. -->',
      '',
      `### Latest run: ${run.startedAt.slice(0, 16).replace('T', ' ')} UTC${mode}`,
      '',
      `- Machine: ${machine.cpuCount} × ${machine.cpuModel}, ${fmt(machine.memoryBytes / 1024 ** 3, 1)} GiB, Linux ${machine.kernel}, Node ${machine.node}; PostgreSQL ${pg.join(' and ') || 'n/a'}.`,
      `- Herald commit \`${run.commit}\`; scenarios ${only}; ${Math.floor(run.seconds / 60)} min ${run.seconds % 60} s; load average ${fmt(run.loadAverage.start)} at the start, ${fmt(run.loadAverage.end)} at the end.`,
      `- Reproduce: \`${run.command}\``,
      `- Bare undici limit of this run (the machine's own ceiling for these requests): ${fmt(this.bare)} signed requests/s.`,
      '',
      this.markdown(),
      '',
      SECTION_END,
    ].join('\n');
  }
}

function dbName(kind: DatabaseKind | null): string {
  return kind === 'machine' ? 'machine PG' : kind === 'embedded' ? 'embedded PG' : '';
}

function resultText(f: Figure): string {
  if (f.text !== undefined) return f.text;
  if (f.value === null) return 'n/a';
  return `${fmt(f.value)} ${f.unit}`.trim();
}

function targetText(f: Figure): string {
  if (!f.target) return '';
  return `${f.target.op === '>=' ? '≥' : '<'} ${fmt(f.target.value, Number.isInteger(f.target.value) ? 0 : undefined)} ${f.unit}`.trim();
}

/** Rewrites the generated section of a Markdown file, or appends it when the markers are missing. */
export function rewriteSection(path: string, section: string): void {
  const text = readFileSync(path, 'utf8');
  const start = text.indexOf(SECTION_START);
  const end = text.indexOf(SECTION_END);
  const next = start >= 0 && end > start ? text.slice(0, start) + section + text.slice(end + SECTION_END.length) : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(path, next);
}

/** What a phase used, for the resource figures beside its throughput. */
export interface PhaseResources {
  /** Deliveries the figures are per. */
  deliveries: number;
  /** SQL statements of Herald's pool during the phase; null when not countable. */
  statements: number | null;
  /** Why statements are null. */
  statementsNote?: string;
  /** CPU seconds of Herald and of PostgreSQL during the phase. */
  cpu: { herald: number; postgres: number };
  /** Whose CPU "Herald" is, e.g. "herald serve" or "bench process: Herald and the publisher". */
  heraldIs: string;
  /** Peak resident set of the Herald process(es), bytes; null for in-process Herald. */
  peakRss: number | null;
}

/** The statement, CPU and memory figures of one measured phase, under the phase's own key and label. */
export function addResourceFigures(report: Report, base: Pick<Figure, 'key' | 'section' | 'label' | 'database'>, r: PhaseResources): void {
  const per100 = r.statements === null || r.deliveries === 0 ? null : (r.statements / r.deliveries) * 100;
  report.add({
    ...base,
    key: `${base.key}.statements`,
    label: `${base.label}: SQL statements per 100 deliveries`,
    value: per100,
    unit: 'per 100',
    target: { op: '<', value: 20 },
    ...(per100 === null ? { note: r.deliveries === 0 ? 'no deliveries arrived' : (r.statementsNote ?? 'not countable') } : {}),
    details: { statements: r.statements, deliveries: r.deliveries },
  });
  const us = (s: number) => (r.deliveries > 0 ? (s * 1e6) / r.deliveries : NaN);
  const herald = us(r.cpu.herald);
  const postgres = us(r.cpu.postgres);
  report.add({
    ...base,
    key: `${base.key}.cpu`,
    label: `${base.label}: CPU per delivery`,
    value: r.deliveries === 0 ? null : herald + postgres,
    unit: 'µs/delivery',
    text: r.deliveries === 0 ? 'n/a' : `${fmt(herald + postgres, 0)} µs (Herald ${fmt(herald, 0)} + PostgreSQL ${fmt(postgres, 0)})`,
    ...(r.deliveries === 0 ? { note: 'no deliveries arrived' } : {}),
    details: { heraldIs: r.heraldIs, heraldMicroseconds: herald, postgresMicroseconds: postgres, heraldCpuSeconds: r.cpu.herald, postgresCpuSeconds: r.cpu.postgres },
  });
  if (r.peakRss !== null) {
    report.add({
      ...base,
      key: `${base.key}.rss`,
      label: `${base.label}: Herald peak RSS`,
      value: r.peakRss / 1e6,
      unit: 'MB',
      target: { op: '<', value: 300 },
      details: { bytes: r.peakRss },
    });
  }
}
