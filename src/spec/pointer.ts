/** RFC 6901 JSON pointers: how every Issue names the field it is about. */

/** Escape one reference token ("~" → "~0", "/" → "~1"). */
export function escapeToken(token: string | number): string {
  return String(token).replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Join tokens into a pointer: ptr('linux', 'sysctl', 'net.ipv4/x') → "/linux/sysctl/net.ipv4~1x". */
export function ptr(...tokens: (string | number)[]): string {
  return tokens.map((t) => '/' + escapeToken(t)).join('');
}

/** The value at `pointer` inside `root`, or undefined when the path does not exist. */
export function valueAt(root: unknown, pointer: string): unknown {
  if (pointer === '') return root;
  let node: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !Object.prototype.hasOwnProperty.call(node, token)) return undefined;
    node = (node as Record<string, unknown>)[token];
  }
  return node;
}
