import { readFileSync } from 'node:fs';
import os from 'node:os';

/** The instruction-set flags that matter for compute kernels, in the order they are reported. */
export const KERNEL_ISA = [
  'sse4_2',
  'avx',
  'avx2',
  'fma',
  'f16c',
  'avx512f',
  'avx512bw',
  'avx512vl',
  'avx512dq',
  'avx512_vnni',
  'avx512_bf16',
  'amx_tile',
  'amx_bf16',
  'amx_int8',
  'avx_vnni',
] as const;

export interface CpuInfo {
  /** the model name; with "(family F model M stepping S)" when the name carries no model number ("AMD EPYC") */
  model: string;
  /** the flags of `KERNEL_ISA` the CPU has */
  isa: string[];
  /** os.availableParallelism(): the cores this process may use */
  cores: number;
}

/**
 * Model and kernel ISA flags from the text of /proc/cpuinfo (its first processor block). A name
 * without a digit (virtual machines often say just "AMD EPYC") gets family, model and stepping
 * appended, so two different CPUs of one brand stay distinguishable.
 */
export function parseCpuInfo(text: string): { model: string; isa: string[] } {
  const first = text.split(/\n\s*\n/)[0] ?? '';
  const field = (key: string): string | undefined => {
    for (const line of first.split('\n')) {
      const i = line.indexOf(':');
      if (i >= 0 && line.slice(0, i).trim() === key) return line.slice(i + 1).trim();
    }
    return undefined;
  };
  let model = (field('model name') ?? field('Hardware') ?? field('cpu model') ?? '').replace(/\s+/g, ' ');
  if (!/\d/.test(model)) {
    const f = field('cpu family'),
      m = field('model'),
      s = field('stepping');
    if (f !== undefined && m !== undefined) {
      const fms = `family ${f} model ${m}${s !== undefined ? ` stepping ${s}` : ''}`;
      model = model ? `${model} (${fms})` : fms;
    }
  }
  const flags = new Set((field('flags') ?? field('Features') ?? '').split(/\s+/).filter(Boolean));
  return { model: model || 'unknown CPU', isa: KERNEL_ISA.filter((f) => flags.has(f)) };
}

/** This machine's CPU: /proc/cpuinfo on Linux; elsewhere os.cpus()'s model and no ISA list. */
export function cpuInfo(): CpuInfo {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  if (process.platform === 'linux') {
    try {
      return { ...parseCpuInfo(readFileSync('/proc/cpuinfo', 'utf8')), cores };
    } catch {
      // no /proc (a sandbox): fall through
    }
  }
  return { model: os.cpus()[0]?.model.trim() || 'unknown CPU', isa: [], cores };
}

/** One line: `CPU: AMD EPYC (family 25 model 17 stepping 1), 2 cores, ISA avx2 fma avx512f ...`. */
export function formatCpuInfo(c: CpuInfo = cpuInfo()): string {
  return `CPU: ${c.model}, ${c.cores} core${c.cores === 1 ? '' : 's'}, ISA ${c.isa.length ? c.isa.join(' ') : '(unknown)'}`;
}
