import type { Tensor } from '../engine/tf.js';
import type { Outputs } from '../contracts/modules.js';
import { ConfigError } from '../errors.js';

const ADVICE: Record<string, string> = {
  p: 'add a predictor to the task (`"predictor": { "type": "mlp" }`)',
  z: 'give the task a head',
};

/**
 * The output `name` of every view of one branch (`online` or `target`), for losses and negative
 * sources that read outputs by name: `readOutputs(input.online, 'p', 'online')` is `[p_0, p_1, ...]`.
 * Views that were not encoded stay undefined. A name no module produced is a sentence that lists
 * the names there are, not a crash.
 *
 * @example const [p0, p1] = readOutputs(online, 'p', 'online'); const [z0, z1] = readOutputs(target, 'z', 'target');
 */
export function readOutputs(views: Outputs[] | undefined, name: string, side: 'online' | 'target'): Tensor[] {
  if (!views) {
    throw new ConfigError([{ path: '/target', message: `reads target.${name}, but the task has no target branch`, hint: 'use target "shared" or "momentum"' }]);
  }
  return views.map((o) => {
    if (o === undefined) return undefined as unknown as Tensor;
    const t = o[name];
    if (t === undefined) {
      const have = Object.keys(o).filter((k) => o[k] !== undefined);
      const hint = side === 'target' && name === 'p' ? 'a target branch copies the encoder and head, never the predictor: read target.z' : ADVICE[name];
      throw new ConfigError([{ path: '', message: `reads ${side}.${name}, but the ${side} branch produces ${have.join(', ')}`, hint }]);
    }
    return t;
  });
}
