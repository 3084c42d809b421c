import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KERNEL_ISA, cpuInfo, formatCpuInfo, parseCpuInfo } from '../../cli/cpu-info.js';

const EPYC_NO_NUMBER = `processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 17
model name\t: AMD EPYC
stepping\t: 1
flags\t\t: fpu sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2 avx512f avx512dq avx512bw avx512vl avx512_vnni avx512_bf16 avx_vnni avx512cd sha_ni

processor\t: 1
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 17
model name\t: AMD EPYC
stepping\t: 1
flags\t\t: fpu sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2 avx512f avx512dq avx512bw avx512vl avx512_vnni avx512_bf16 avx_vnni avx512cd sha_ni
`;

const XEON = `processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 143
model name\t: Intel(R) Xeon(R) Platinum 8480+
stepping\t: 8
flags\t\t: fpu sse4_2 avx avx2 fma f16c avx512f avx512bw avx512vl avx512dq avx512_vnni avx512_bf16 amx_tile amx_bf16 amx_int8 avx_vnni avx512_fp16
`;

describe('parseCpuInfo', () => {
  it('appends family, model and stepping to a name without a model number', () => {
    const c = parseCpuInfo(EPYC_NO_NUMBER);
    expect(c.model).toBe('AMD EPYC (family 25 model 17 stepping 1)');
    expect(c.isa).toEqual(['sse4_2', 'avx', 'avx2', 'fma', 'f16c', 'avx512f', 'avx512bw', 'avx512vl', 'avx512dq', 'avx512_vnni', 'avx512_bf16', 'avx_vnni']);
  });

  it('keeps a name with a model number as it is and reports the AMX flags', () => {
    const c = parseCpuInfo(XEON);
    expect(c.model).toBe('Intel(R) Xeon(R) Platinum 8480+');
    expect(c.isa).toEqual([...KERNEL_ISA]);
  });

  it('does not take a longer flag for a shorter one (avx512f is not avx)', () => {
    const c = parseCpuInfo('model name\t: Some CPU 1\nflags\t\t: avx512f sse4_1 avx_vnni\n');
    expect(c.isa).toEqual(['avx512f', 'avx_vnni']);
  });

  it('says unknown CPU for an empty text', () => {
    expect(parseCpuInfo('')).toEqual({ model: 'unknown CPU', isa: [] });
  });
});

describe('cpuInfo on this machine', () => {
  it('has a model, cores and only kernel flags; avx2 exactly when /proc/cpuinfo lists it', () => {
    const c = cpuInfo();
    expect(c.model.length).toBeGreaterThan(0);
    expect(c.cores).toBeGreaterThanOrEqual(1);
    for (const f of c.isa) expect(KERNEL_ISA as readonly string[]).toContain(f);
    if (process.platform !== 'linux' || !fs.existsSync('/proc/cpuinfo')) return;
    const raw = fs.readFileSync('/proc/cpuinfo', 'utf8');
    const flagsLine = /^flags\s*:(.*)$/m.exec(raw)?.[1] ?? '';
    expect(c.isa.includes('avx2')).toBe(/ avx2(\s|$)/.test(flagsLine));
    expect(c.isa.includes('fma')).toBe(/ fma(\s|$)/.test(flagsLine));
    const name = /^model name\s*:\s*(.*)$/m.exec(raw)?.[1]?.trim();
    if (name) expect(c.model.startsWith(name.replace(/\s+/g, ' '))).toBe(true);
    expect(formatCpuInfo(c)).toMatch(new RegExp(`^CPU: .+, ${c.cores} cores?, ISA `));
  });
});
