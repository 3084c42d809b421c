import fs from 'node:fs';
import { DataError } from '../../core/index.js';

/**
 * A dataset's class names, one per line (CIFAR-10's batches.meta.txt, STL-10's class_names.txt);
 * `fallback` when the file is absent. A file with another number of names is refused: it is not
 * the dataset's.
 */
export function readClassNamesFile(file: string, fallback: string[], dataset: string): string[] {
  if (!fs.existsSync(file)) return fallback;
  const names = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (names.length !== fallback.length)
    throw new DataError(`${file} names ${names.length} classes, ${dataset} has ${fallback.length} (not ${dataset}'s ${file.split('/').pop()}?)`);
  return names;
}
