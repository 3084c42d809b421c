import seedrandom from 'seedrandom';

/**
 * A seeded, serialisable random number generator (Alea). One per run drives shuffling,
 * augmentation and initialisation; its state is saved in checkpoints so a resumed run draws the
 * same numbers as an uninterrupted one.
 *
 * @example
 * const rng = Rng.fromSeed(0, 'augment');
 * rng.uniform(0.2, 1); rng.int(10); const s = rng.state(); Rng.fromState(s).uniform() // same draw
 */
export class Rng {
  private constructor(private prng: seedrandom.StatefulPRNG<seedrandom.State.Alea>) {}

  /** continue from a saved `state()` (checkpoint resume) */
  restore(state: object): void {
    this.prng = seedrandom.alea('', { state: state as seedrandom.State.Alea });
  }

  static fromSeed(seed: number, stream = ''): Rng {
    return new Rng(seedrandom.alea(`${seed}:${stream}`, { state: true }));
  }

  static fromState(state: object): Rng {
    return new Rng(seedrandom.alea('', { state: state as seedrandom.State.Alea }));
  }

  /** uniform in [0, 1) */
  next(): number {
    return this.prng();
  }

  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.prng();
  }

  /** integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.prng() * n);
  }

  bernoulli(p: number): boolean {
    return this.prng() < p;
  }

  /** standard normal (Box-Muller) */
  normal(): number {
    const u = 1 - this.prng();
    const v = this.prng();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Fisher-Yates permutation of 0..n-1 */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  /** n draws of `draw()` as a Float32Array */
  fill(n: number, draw: (r: Rng) => number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = draw(this);
    return out;
  }

  state(): object {
    return this.prng.state();
  }
}
