import { tf, type Param, type Variable } from '../../core/index.js';

/** Per-parameter optimizer state (`<param>/<slot>`), created eagerly so checkpoints can restore it before the first step. */
export class Slots {
  readonly all = new Map<string, Variable>();
  params: Param[] = [];

  init(params: Param[], names: string[]): void {
    this.params = params;
    // in a tidy: tf.variable keeps its initial tensor alive otherwise
    for (const p of params)
      for (const s of names)
        this.all.set(
          `${p.name}/${s}`,
          tf.tidy(() => tf.variable(tf.zerosLike(p.variable), false)),
        );
  }

  get(p: Param, slot: string): Variable {
    return this.all.get(`${p.name}/${slot}`)!;
  }

  /** a scalar counter (Adam's step) stored with the slots */
  counter(name: string): Variable {
    let v = this.all.get(name);
    if (!v) {
      v = tf.tidy(() => tf.variable(tf.scalar(0), false));
      this.all.set(name, v);
    }
    return v;
  }
}
