// The engine's two CPU paths, for specs that must hold on both: plain wasm, and wasm with the
// native oneDNN kernels. The native one is left out only where the addon is switched off on
// purpose (FLEET_NATIVE=0: the fallback CI run); a missing addon otherwise fails those specs.
export const CPU_PATHS = process.env.FLEET_NATIVE === '0' ? (['wasm'] as const) : (['wasm', 'wasm+onednn'] as const);
export type CpuPath = (typeof CPU_PATHS)[number];
