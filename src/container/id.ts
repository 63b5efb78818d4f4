import { invalidId } from '../errors.js';

/** runc's validateID: letters, digits, `_ + - .`; not "." or ".."; no "/" (it would escape --root). */
const ID_RE = /^[A-Za-z0-9_+.-]{1,1024}$/;

export function validateId(id: string): string {
  if (!ID_RE.test(id) || id === '.' || id === '..') throw invalidId(id);
  return id;
}
