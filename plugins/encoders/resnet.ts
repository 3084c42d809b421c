import { Type } from '@sinclair/typebox';
import { BatchNorm, Conv2d, ParamStore, definePlugin, globalAvgPool, tf, type Tensor4D } from '../../core/index.js';

const LAYOUT: Record<number, { block: 'basic' | 'bottleneck'; blocks: number[] }> = {
  18: { block: 'basic', blocks: [2, 2, 2, 2] },
  34: { block: 'basic', blocks: [3, 4, 6, 3] },
  50: { block: 'bottleneck', blocks: [3, 4, 6, 3] },
};

/**
 * ResNet (He et al. 2016) with the CIFAR stem used by SimCLR/MoCo on small images: a 3x3 stride-1
 * first conv and no max-pool, then 4 stages (64, 128, 256, 512 x `widthMultiplier` channels; stages
 * 2-4 stride 2), global average pooling. Depth 18/34 use basic blocks, 50 bottlenecks (x4).
 * `[N, 32, 32, 3] -> h [N, 512] (18/34) or [N, 2048] (50), map [N, 4, 4, .]`.
 *
 * @example { "type": "resnet", "depth": 18 }
 */
export default definePlugin({
  kind: 'encoder',
  name: 'resnet',
  description: 'ResNet-18/34/50 with the CIFAR stem (3x3 conv, no max-pool)',
  reference: 'He et al. 2016; SimCLR appendix B.9 (CIFAR-10 stem)',
  options: Type.Object({
    depth: Type.Union([Type.Literal(18), Type.Literal(34), Type.Literal(50)], { default: 18, description: '18, 34 or 50' }),
    widthMultiplier: Type.Number({ default: 1, exclusiveMinimum: 0, description: 'scales every stage width' }),
  }),
  create(o, ctx) {
    const layout = LAYOUT[o.depth];
    const params = new ParamStore(`resnet${o.depth}`, ctx.rng);
    const conv = (name: string, i: number, out: number, k: number, s: number) =>
      new Conv2d(params, name, { inChannels: i, outChannels: out, kernel: k, stride: s, bias: false, init: 'kaiming-fan-out' });
    const bn = (name: string, c: number) => new BatchNorm(params, name, { channels: c });
    const base = Math.round(64 * o.widthMultiplier);
    const stemConv = conv('stem.conv', ctx.dataset?.channels ?? 3, base, 3, 1);
    const stemBn = bn('stem.bn', base);
    const expansion = layout.block === 'basic' ? 1 : 4;
    type Block = (x: Tensor4D, training: boolean) => Tensor4D;
    const blocks: Block[] = [];
    let inC = base;
    layout.blocks.forEach((count, stage) => {
      const width = base * 2 ** stage;
      for (let b = 0; b < count; b++) {
        const stride = stage > 0 && b === 0 ? 2 : 1;
        const name = `layer${stage + 1}.${b}`;
        const outC = width * expansion;
        const short = stride !== 1 || inC !== outC ? { conv: conv(`${name}.down.conv`, inC, outC, 1, stride), bn: bn(`${name}.down.bn`, outC) } : undefined;
        const shortcut = (x: Tensor4D, t: boolean) => (short ? (short.bn.apply(short.conv.apply(x), t) as Tensor4D) : x);
        if (layout.block === 'basic') {
          const c1 = conv(`${name}.conv1`, inC, width, 3, stride),
            b1 = bn(`${name}.bn1`, width);
          const c2 = conv(`${name}.conv2`, width, width, 3, 1),
            b2 = bn(`${name}.bn2`, width);
          blocks.push((x, t) => {
            const y = b2.apply(c2.apply(b1.apply(c1.apply(x), t, true) as Tensor4D), t);
            return tf.relu(tf.add(y, shortcut(x, t))) as Tensor4D;
          });
        } else {
          const c1 = conv(`${name}.conv1`, inC, width, 1, 1),
            b1 = bn(`${name}.bn1`, width);
          const c2 = conv(`${name}.conv2`, width, width, 3, stride),
            b2 = bn(`${name}.bn2`, width);
          const c3 = conv(`${name}.conv3`, width, outC, 1, 1),
            b3 = bn(`${name}.bn3`, outC);
          blocks.push((x, t) => {
            let y = b1.apply(c1.apply(x), t, true) as Tensor4D;
            y = b2.apply(c2.apply(y), t, true) as Tensor4D;
            y = b3.apply(c3.apply(y), t) as Tensor4D;
            return tf.relu(tf.add(y, shortcut(x, t))) as Tensor4D;
          });
        }
        inC = outC;
      }
    });
    return {
      params,
      dim: inC,
      forward(x, training) {
        let y = stemBn.apply(stemConv.apply(x), training, true) as Tensor4D;
        for (const b of blocks) y = b(y, training);
        return { h: globalAvgPool(y), map: y };
      },
    };
  },
});
