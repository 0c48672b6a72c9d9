// Which llama.cpp build the engine computes on. node-llama-cpp ships prebuilt binaries per platform and GPU
// (@node-llama-cpp/linux-x64-cuda, mac-arm64-metal, ...); the engine takes the one the choice asks for, never
// building from source, and falls back to the CPU when that GPU cannot be had or the model fails on it, so a
// missing driver costs speed, never the run. The library sits behind a small port, so the choice is tested without it.
import { gpuName, type Backend, type GpuChoice, type GpuKind } from './protocol';

/** Devices that are a CPU behind a GPU's interface: Mesa's llvmpipe (lavapipe), softpipe, SwiftShader. */
const SOFTWARE_DEVICE = /llvmpipe|lavapipe|softpipe|swiftshader/i;

/** What the choice needs from node-llama-cpp, for one loaded binary `L`. */
export interface BackendPort<L> {
  /** Loads the binary for `gpu` (`auto`: the best this machine has; false: the CPU). Throws when none loads. */
  open(gpu: GpuKind | 'auto' | false): Promise<L>;
  /** The GPU the loaded binary computes on; false for the CPU. */
  kind(llama: L): GpuKind | false;
  devices(llama: L): Promise<string[]>;
  close(llama: L): Promise<void>;
}

export interface Opened<L, T> {
  llama: L;
  value: T;
  backend: Backend;
}

/**
 * Opens the backend `choice` asks for and runs `use` on it (load the model, make the context, a first token); when
 * the GPU cannot be loaded, is not the one asked for, or `use` fails on it, does it all again on the CPU and says why
 * in `backend.fallback`. A failure on the CPU is the caller's (a bad model file fails there too).
 */
export async function openBackend<L, T>(
  choice: GpuChoice,
  threads: number,
  port: BackendPort<L>,
  use: (llama: L) => Promise<T>,
  log: (line: string) => void = () => undefined,
): Promise<Opened<L, T>> {
  let fallback: string | undefined;
  if (choice !== 'off') {
    let llama: L | undefined;
    try {
      llama = await port.open(choice);
    } catch (error) {
      const which = choice === 'auto' ? 'no GPU build of llama.cpp loads' : `the ${gpuName(choice)} build of llama.cpp does not load`;
      fallback = `${which} on this machine (${reasonOf(error)})`;
    }
    if (llama !== undefined) {
      const kind = port.kind(llama);
      const devices = kind === false ? [] : await port.devices(llama).catch(() => []);
      const real = devices.filter((name) => !SOFTWARE_DEVICE.test(name));
      if (kind !== false && (choice === 'auto' || kind === choice) && real.length === 0) {
        // Vulkan on a machine without a GPU may find only a software renderer (Mesa's llvmpipe), slower than the CPU build.
        fallback = `${gpuName(kind)} finds no GPU here${devices.length > 0 ? ` (only ${devices.join(', ')})` : ''}`;
      } else if (kind !== false && (choice === 'auto' || kind === choice)) {
        try {
          const value = await use(llama);
          return { llama, value, backend: { gpu: kind, devices: real, threads } };
        } catch (error) {
          fallback = `${gpuName(kind)} failed to run the model: ${errorMessage(error)}`;
        }
      } else if (choice !== 'auto') {
        fallback = `${gpuName(choice)} is not available on this machine`;
      } else {
        // `auto` found no GPU: the CPU build it loaded is the answer, and nothing was asked that failed.
        const value = await use(llama);
        return { llama, value, backend: { gpu: null, devices: [], threads } };
      }
      await port.close(llama).catch(() => undefined);
    }
    log(`GPU not used: ${fallback ?? 'unknown reason'}; running on the CPU`);
  }
  const llama = await port.open(false);
  const value = await use(llama);
  return { llama, value, backend: { gpu: null, devices: [], threads, ...(fallback !== undefined ? { fallback } : {}) } };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** node-llama-cpp's NoBinaryFoundError says only its own name: what it means is said here. */
function reasonOf(error: unknown): string {
  const message = errorMessage(error);
  if (message === 'NoBinaryFoundError' || (error instanceof Error && error.constructor.name === 'NoBinaryFoundError')) {
    return 'no driver or runtime for it, or its @node-llama-cpp package is not installed';
  }
  return message;
}
