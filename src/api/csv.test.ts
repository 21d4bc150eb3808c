import { describe, expect, it } from 'vitest';
import { csvCell, csvDocument, csvLine } from './csv.js';

describe('csvCell', () => {
  it('leaves plain text and numbers as they are, and writes nothing for empty values', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('')).toBe('');
    expect(csvCell(42)).toBe('42');
    expect(csvCell(-5)).toBe('-5');
    expect(csvCell(1.5)).toBe('1.5');
    expect(csvCell(null)).toBe('');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell(Number.NaN)).toBe('');
  });

  it('quotes cells holding a comma, a quote or a line break, doubling quotes (RFC 4180)', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('line\nbreak')).toBe('"line\nbreak"');
    expect(csvCell('cr\r\nlf')).toBe('"cr\r\nlf"');
    expect(csvCell('"')).toBe('""""');
  });

  it('prefixes text a spreadsheet would run as a formula with a single quote', () => {
    for (const danger of ['=SUM(A1)', '+1', '-2+3', '@cmd', '\tx']) expect(csvCell(danger)).toBe(`'${danger}`);
    expect(csvCell('\rx')).toBe(`"'\rx"`);
    expect(csvCell('=HYPERLINK("http://x","y")')).toBe(`"'=HYPERLINK(""http://x"",""y"")"`);
    // Only the first character counts: these are ordinary text.
    expect(csvCell('a=b')).toBe('a=b');
    expect(csvCell(' =x')).toBe(' =x');
  });

  it('drops NUL characters, also where they would hide a formula', () => {
    expect(csvCell('a\u0000b')).toBe('ab');
    expect(csvCell('\u0000=cmd')).toBe("'=cmd");
    expect(csvCell('\u0000')).toBe('');
  });
});

describe('csvLine and csvDocument', () => {
  it('joins cells with commas and ends lines with CRLF', () => {
    expect(csvLine(['a', 1, null, 'b,c'])).toBe('a,1,,"b,c"\r\n');
  });

  it('writes the header, then every page of rows, skipping empty pages', async () => {
    async function* pages() {
      yield [{ n: 1, s: 'x' }];
      yield [];
      yield [{ n: 2, s: '=y' }, { n: 3, s: null }];
    }
    let out = '';
    for await (const chunk of csvDocument(['n', 's'], pages(), (r) => [r.n, r.s])) out += chunk;
    expect(out).toBe("n,s\r\n1,x\r\n2,'=y\r\n3,\r\n");
  });
});
