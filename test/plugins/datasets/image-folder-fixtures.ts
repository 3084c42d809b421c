import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { Rng, createRegistry, type Dataset, type ImageSet, type LoadedDataset } from '../../../cli/api.js';

/** Image-folder test fixtures: folders of seeded images, loads that keep their log lines, and the cleanup of both. */
export class FolderFixtures {
  readonly registry = createRegistry();
  /** folders removed by `cleanup` */
  readonly roots: string[] = [];
  private readonly sources: ImageSet[] = [];

  /** Load an image-folder dataset; its log lines are returned with it. */
  async load(options: Record<string, unknown>): Promise<{ d: LoadedDataset; logs: string[] }> {
    const logs: string[] = [];
    const ds = (await this.registry.create(
      'dataset',
      { type: 'image-folder', ...options },
      { seed: 0, rng: Rng.fromSeed(0), path: '/data', registry: this.registry, log: (m) => logs.push(m) },
    )) as Dataset;
    const d = await ds.load();
    for (const s of [d.train, d.test]) if (s?.source) this.sources.push(s);
    return { d, logs };
  }

  /** root/{train,test}/{a,b,c}/NN.png|jpg: seeded noise, `perClass` images per class in train (half that in test). */
  async makeFolder(perClass: number, side = 12): Promise<string> {
    const root = this.tempDir('imgstream-');
    const rng = Rng.fromSeed(7, 'folder');
    for (const [split, n] of [
      ['train', perClass],
      ['test', Math.ceil(perClass / 2)],
    ] as const)
      for (const [k, cls] of ['a', 'b', 'c'].entries()) {
        fs.mkdirSync(path.join(root, split, cls), { recursive: true });
        for (let i = 0; i < n; i++) {
          const px = Buffer.from(Array.from({ length: side * side * 3 }, (_, j) => Math.floor(rng.uniform() * 128 + 60 * k + (j % 3) * 10)));
          const img = sharp(px, { raw: { width: side, height: side, channels: 3 } });
          const name = path.join(root, split, cls, `${String(i).padStart(2, '0')}.${i % 3 === 0 ? 'jpg' : 'png'}`);
          await (i % 3 === 0 ? img.jpeg() : img.png()).toFile(name);
        }
      }
    return root;
  }

  /** A new empty folder under the OS's temp folder, removed by `cleanup`. */
  tempDir(prefix: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    this.roots.push(dir);
    return dir;
  }

  async cleanup(): Promise<void> {
    for (const s of this.sources) await s.source?.close?.();
    for (const r of this.roots) fs.rmSync(r, { recursive: true, force: true });
  }
}
