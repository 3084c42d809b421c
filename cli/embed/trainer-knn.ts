import fs from 'node:fs';
import path from 'node:path';
import type { ResolvedConfig } from '../../core/index.js';

/**
 * The trainer's own kNN top-1 for the checkpoint at `step`: result.json's final evaluation when it
 * is of that step, else the epoch record of metrics.jsonl at that step; undefined when the run
 * directory has neither (or they are of other steps). `k` and `temperature` are the config's knn evaluator's.
 */
export function trainerKnn(dir: string, step: number, config: ResolvedConfig): { top1: number; k: number; temperature: number; source: string } | undefined {
  const knn = [...config.eval.final, ...config.eval.monitor].find((e) => e.type === 'knn' && (e.features ?? 'h') === 'h' && e.name === undefined);
  const k = typeof knn?.k === 'number' ? knn.k : 200;
  const temperature = typeof knn?.temperature === 'number' ? knn.temperature : 0.1;
  const read = (file: string) => {
    try {
      return fs.readFileSync(path.join(dir, file), 'utf8');
    } catch {
      return undefined;
    }
  };
  try {
    const result = JSON.parse(read('result.json') ?? 'null') as { steps?: number; eval?: Record<string, number> } | null;
    if (result?.steps === step && typeof result.eval?.knn_top1 === 'number') return { top1: result.eval.knn_top1, k, temperature, source: 'result.json' };
  } catch {
    // a damaged result.json: look in metrics.jsonl
  }
  const records = (read('metrics.jsonl') ?? '').split('\n').flatMap((line) => {
    try {
      return [JSON.parse(line) as { type?: string; step?: number; metrics?: Record<string, number> }];
    } catch {
      return [];
    }
  });
  const rec = records.reverse().find((r) => r.type === 'epoch' && r.step === step && typeof r.metrics?.knn_top1 === 'number');
  return rec ? { top1: rec.metrics!.knn_top1, k, temperature, source: 'metrics.jsonl' } : undefined;
}
