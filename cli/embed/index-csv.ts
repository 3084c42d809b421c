/** A CSV field: quoted where it holds a comma, a quote or a line break (RFC 4180). */
const field = (v: string | number) => {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/**
 * `index.csv`: one row per embedded image, in the order of the rows of `features.npy`: its index in
 * the split, its label, the label's class name, and its file where the dataset reads files
 * (image-folder), else empty.
 */
export function indexCsv(rows: { indices: ArrayLike<number>; labels: ArrayLike<number>; classNames?: string[]; paths?: string[] }): string {
  const lines = ['index,label,class,path'];
  for (let i = 0; i < rows.indices.length; i++) {
    const index = rows.indices[i];
    const label = rows.labels[i];
    lines.push([index, label, rows.classNames?.[label] ?? String(label), rows.paths?.[index] ?? ''].map(field).join(','));
  }
  return lines.join('\n') + '\n';
}
