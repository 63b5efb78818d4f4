/**
 * Where a JSON text stops being JSON. V8's JSON.parse messages sometimes carry a position and sometimes instead
 * quote the whole input ("Unexpected token '}', "{…}" is not valid JSON"), which for a config.json is useless and
 * long. This small syntax-only scanner (RFC 8259 grammar) is run only after JSON.parse has failed.
 */

export interface JsonSyntaxError {
  offset: number;
  line: number;
  column: number;
  /** e.g. "unexpected '}'", "unexpected end of input" */
  problem: string;
}

const NUMBER = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

class Stop {
  constructor(readonly offset: number, readonly problem: string) {}
}

export function locateJsonError(text: string): JsonSyntaxError | undefined {
  let i = 0;
  const fail = (what?: string): never => {
    if (i >= text.length) throw new Stop(i, 'unexpected end of input');
    throw new Stop(i, `unexpected ${JSON.stringify(text[i])}${what ? `, expected ${what}` : ''}`);
  };
  const ws = () => { while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++; };
  const expect = (c: string) => { if (text[i] !== c) fail(`'${c}'`); i++; };

  function string(): void {
    expect('"');
    for (;;) {
      if (i >= text.length) fail();
      const c = text.charCodeAt(i);
      if (c === 0x22) { i++; return; }
      if (c < 0x20) throw new Stop(i, 'control character in string (escape it, e.g. \\n)');
      if (c === 0x5c) {
        const backslash = i++;
        const e = text[i];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) throw new Stop(backslash, 'bad \\u escape in string');
          i += 5;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i++;
        else if (e === undefined) fail();
        else throw new Stop(backslash, `bad escape '\\${e}' in string`);
      } else i++;
    }
  }

  function value(): void {
    ws();
    const c = text[i];
    if (c === '{') {
      i++; ws();
      if (text[i] === '}') { i++; return; }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('a property name in double quotes');
        string(); ws(); expect(':'); value(); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return; }
        fail("',' or '}'");
      }
    }
    if (c === '[') {
      i++; ws();
      if (text[i] === ']') { i++; return; }
      for (;;) {
        value(); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return; }
        fail("',' or ']'");
      }
    }
    if (c === '"') return string();
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m) { i += m[0].length; return; }
    for (const lit of ['true', 'false', 'null']) if (text.startsWith(lit, i)) { i += lit.length; return; }
    fail('a value');
  }

  try {
    value(); ws();
    if (i < text.length) fail('end of input');
    return undefined;
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
    const before = text.slice(0, e.offset);
    const line = before.split('\n').length;
    const column = e.offset - before.lastIndexOf('\n');
    return { offset: e.offset, line, column, problem: e.problem };
  }
}
