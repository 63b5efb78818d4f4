/** Whole-file reads through an fd, without Node's stream or readFileSync machinery. No FFI: importing it loads nothing. */
import { fstatSync, readSync } from 'node:fs';

/** Everything from offset 0 to the size fstat reports (pread: the fd's own offset is left alone). */
export function readWholeFd(fd: number): Buffer {
  const size = fstatSync(fd).size;
  const out = Buffer.alloc(size);
  let off = 0;
  while (off < size) {
    const n = readSync(fd, out, off, size - off, off);
    if (n <= 0) break;
    off += n;
  }
  return out.subarray(0, off);
}
