import { invalidId } from '../errors.js';

/**
 * runc's validateID: letters, digits, `_ + - .`; not "." or ".."; no "/" (it would escape --root). At most 255
 * characters: the state directory is named after the id and NAME_MAX is 255 (runc fails later, on the lstat).
 */
const ID_RE = /^[A-Za-z0-9_+.-]{1,255}$/;

export function validateId(id: string): string {
  if (!ID_RE.test(id) || id === '.' || id === '..') throw invalidId(id);
  return id;
}
