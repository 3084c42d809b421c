/**
 * The built-in plugins that run anywhere, Node or a browser tab: augmenters, encoders, heads,
 * losses, negatives, targets, optimizers, schedules, evaluators, the synthetic dataset and the cpu
 * backend. `plugins/index.ts` adds the ones that need Node (datasets read from files, the native,
 * wasm-in-Node and tensorflow backends, the callbacks that write files); the browser build adds
 * its own (`browser/plugins/`).
 */
import type { PluginDefinition, PluginRegistry } from '../core/index.js';
import colorJitter from './augmenters/color-jitter.js';
import gaussianBlur from './augmenters/gaussian-blur.js';
import grayscale from './augmenters/grayscale.js';
import horizontalFlip from './augmenters/horizontal-flip.js';
import labSplit from './augmenters/lab-split.js';
import maskPatches from './augmenters/mask-patches.js';
import maskRegion from './augmenters/mask-region.js';
import multiCrop from './augmenters/multi-crop.js';
import multiView from './augmenters/multi-view.js';
import randomResizedCrop from './augmenters/random-resized-crop.js';
import rotate4 from './augmenters/rotate4.js';
import solarize from './augmenters/solarize.js';
import cpuBackend from './backends/cpu.js';
import synthetic from './datasets/synthetic.js';
import resnet from './encoders/resnet.js';
import smallCnn from './encoders/small-cnn.js';
import vit from './encoders/vit.js';
import fineTune from './evaluators/fine-tune.js';
import knn from './evaluators/knn.js';
import linearProbe from './evaluators/linear-probe.js';
import classifier from './heads/classifier.js';
import convDecoder from './heads/conv-decoder.js';
import dinoHead from './heads/dino.js';
import identity from './heads/identity.js';
import linear from './heads/linear.js';
import maeDecoder from './heads/mae-decoder.js';
import mlp from './heads/mlp.js';
import prototypes from './heads/prototypes.js';
import sequence from './heads/sequence.js';
import barlowTwins from './losses/barlow-twins.js';
import colorization from './losses/colorization.js';
import crossEntropy from './losses/cross-entropy.js';
import dinoLoss from './losses/dino.js';
import infoNce from './losses/info-nce.js';
import mae from './losses/mae.js';
import maskedL2 from './losses/masked-l2.js';
import negativeCosine from './losses/negative-cosine.js';
import normalizedMse from './losses/normalized-mse.js';
import swav from './losses/swav.js';
import vicreg from './losses/vicreg.js';
import inBatch from './negatives/in-batch.js';
import memoryBank from './negatives/memory-bank.js';
import momentumQueue from './negatives/momentum-queue.js';
import noNegatives from './negatives/none.js';
import { adam, adamw } from './optimizers/adam.js';
import lars from './optimizers/lars.js';
import sgd from './optimizers/sgd.js';
import constant from './schedules/constant.js';
import cosine from './schedules/cosine.js';
import stepSchedule from './schedules/step.js';
import momentumTarget from './targets/momentum.js';
import noTarget from './targets/none.js';
import sharedTarget from './targets/shared.js';

export const portablePlugins: PluginDefinition<any, any>[] = [
  multiView,
  multiCrop,
  randomResizedCrop,
  horizontalFlip,
  colorJitter,
  grayscale,
  gaussianBlur,
  solarize,
  rotate4,
  maskRegion,
  maskPatches,
  labSplit,
  smallCnn,
  resnet,
  vit,
  identity,
  linear,
  mlp,
  classifier,
  convDecoder,
  sequence,
  prototypes,
  maeDecoder,
  dinoHead,
  infoNce,
  crossEntropy,
  maskedL2,
  colorization,
  normalizedMse,
  negativeCosine,
  barlowTwins,
  vicreg,
  mae,
  swav,
  dinoLoss,
  noNegatives,
  inBatch,
  momentumQueue,
  memoryBank,
  sharedTarget,
  momentumTarget,
  noTarget,
  synthetic,
  sgd,
  adam,
  adamw,
  lars,
  cosine,
  stepSchedule,
  constant,
  knn,
  linearProbe,
  fineTune,
  cpuBackend,
];

/** Register `plugins` (default: the portable built-ins) into `registry`. */
export function registerPlugins(registry: PluginRegistry, plugins: PluginDefinition<any, any>[] = portablePlugins): PluginRegistry {
  for (const p of plugins) registry.register(p);
  return registry;
}
