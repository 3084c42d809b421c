import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { tf } from '../../../cli/api.js';

type DataId = object;

const inKernel = () => (tf.engine() as unknown as { state: { kernelDepth: number } }).state.kernelDepth > 0;

/**
 * A cpu backend under another name whose synchronous reads behave as tfjs-backend-webgpu's do in
 * headless Chromium: a tensor made from an array keeps its values on the CPU until a kernel first
 * reads it; after that, and for every kernel output, the data is "on the device", where `readSync`
 * returns zeros (or throws, with `throws`) and only the asynchronous `read` is right. It exposes
 * the same `tensorMap.get(id).values` as tfjs-backend-webgpu 4.x (null once on the device).
 */
export function registerDeviceReads(name: string, opts: { throws?: Error } = {}): void {
  class DeviceReads extends MathBackendCPU {
    private readonly onCpu = new WeakSet<DataId>();
    private reading = false;
    // the cpu kernels read their inputs with readSync (bufferSync): inside a kernel the data is where the kernel runs
    readonly tensorMap = { get: (id: DataId) => ({ values: this.onCpu.has(id) || inKernel() ? {} : null, dtype: 'float32' }) };

    constructor() {
      super();
      // a kernel reading its input moves it to the device (tfjs-backend-webgpu uploads and drops the CPU copy)
      const get = this.data.get.bind(this.data);
      this.data.get = (id: DataId) => {
        if (!this.reading) this.onCpu.delete(id);
        return get(id);
      };
    }
    override write(values: Parameters<MathBackendCPU['write']>[0], shape: number[], dtype: Parameters<MathBackendCPU['write']>[2]): DataId {
      const id = super.write(values, shape, dtype);
      // made from an array (tf.tensor, tf.scalar), not written by a kernel as its output
      if (!inKernel()) this.onCpu.add(id);
      return id;
    }
    override makeTensorInfo(...args: Parameters<MathBackendCPU['makeTensorInfo']>): ReturnType<MathBackendCPU['makeTensorInfo']> {
      const info = super.makeTensorInfo(...args);
      this.onCpu.delete(info.dataId);
      return info;
    }
    private readValues(id: DataId) {
      this.reading = true;
      try {
        return super.readSync(id);
      } finally {
        this.reading = false;
      }
    }
    override readSync(id: DataId) {
      if (this.onCpu.has(id) || inKernel()) return this.readValues(id);
      if (opts.throws) throw opts.throws;
      const right = this.readValues(id);
      return new (right.constructor as Float32ArrayConstructor)(right.length);
    }
    override async read(id: DataId) {
      return this.readValues(id);
    }
  }
  tf.registerBackend(name, () => new DeviceReads());
  for (const k of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...k, backendName: name });
}
