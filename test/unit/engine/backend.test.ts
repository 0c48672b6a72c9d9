// Which build the engine computes on: the choice against a fake node-llama-cpp, then the real one on this machine,
// which has no GPU: whatever is asked, the CPU runs, and says why where a GPU was asked for.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { openBackend, type BackendPort } from '../../../src/engine/backend';
import { llamaPort, loadNodeLlamaCpp } from '../../../src/engine/generation';
import { describeBackend, parseEngineSettings, type GpuKind } from '../../../src/engine/protocol';

/** A machine with these GPU builds loadable; `failsOn` GPUs load but cannot run the model. */
function fakePort(available: GpuKind[], failsOn: GpuKind[] = []) {
  const opened: (GpuKind | 'auto' | false)[] = [];
  const closed: (GpuKind | false)[] = [];
  const port: BackendPort<{ kind: GpuKind | false }> = {
    open: async (gpu) => {
      opened.push(gpu);
      if (gpu === false) return { kind: false };
      if (gpu === 'auto') return { kind: available[0] ?? false };
      if (!available.includes(gpu)) {
        // As node-llama-cpp throws it: a class of that name whose message is the name too.
        throw new (class NoBinaryFoundError extends Error {})('NoBinaryFoundError');
      }
      return { kind: gpu };
    },
    kind: (llama) => llama.kind,
    devices: async (llama) => (llama.kind === false ? [] : [`${llama.kind} device 0`]),
    close: async (llama) => void closed.push(llama.kind),
  };
  const use = async (llama: { kind: GpuKind | false }) => {
    if (llama.kind !== false && failsOn.includes(llama.kind)) throw new Error('out of device memory');
    return `model on ${llama.kind || 'cpu'}`;
  };
  return { port, use, opened, closed };
}

describe('openBackend', () => {
  test('auto takes the GPU the machine has, and names its devices', async () => {
    const fake = fakePort(['cuda', 'vulkan']);
    const opened = await openBackend('auto', 4, fake.port, fake.use);
    assert.equal(opened.value, 'model on cuda');
    assert.deepEqual(opened.backend, { gpu: 'cuda', devices: ['cuda device 0'], threads: 4 });
    assert.equal(describeBackend(opened.backend), 'CUDA: cuda device 0');
    assert.deepEqual(fake.opened, ['auto']);
  });

  test('auto without a GPU is the CPU, with nothing to explain', async () => {
    const fake = fakePort([]);
    const opened = await openBackend('auto', 2, fake.port, fake.use);
    assert.deepEqual(opened.backend, { gpu: null, devices: [], threads: 2 });
    assert.equal(describeBackend(opened.backend), 'CPU, 2 threads');
    assert.deepEqual(fake.opened, ['auto']);
  });

  test('a GPU asked for and missing: the CPU, saying why', async () => {
    const fake = fakePort(['vulkan']);
    const lines: string[] = [];
    const opened = await openBackend('cuda', 1, fake.port, fake.use, (line) => lines.push(line));
    assert.equal(opened.value, 'model on cpu');
    assert.equal(opened.backend.gpu, null);
    assert.match(opened.backend.fallback ?? '', /the CUDA build of llama\.cpp does not load on this machine \(no driver or runtime/);
    assert.deepEqual(fake.opened, ['cuda', false]);
    assert.equal(describeBackend(opened.backend), 'CPU, 1 thread');
    assert.equal(lines.length, 1);
  });

  test('a GPU that loads but cannot run the model: closed, and the model loaded again on the CPU', async () => {
    const fake = fakePort(['cuda'], ['cuda']);
    const opened = await openBackend('auto', 2, fake.port, fake.use);
    assert.equal(opened.value, 'model on cpu');
    assert.match(opened.backend.fallback ?? '', /^CUDA failed to run the model: out of device memory/);
    assert.deepEqual(fake.closed, ['cuda']);
  });

  test('another GPU than the one asked for is not taken', async () => {
    const fake = fakePort(['cuda']);
    // As node-llama-cpp does off macOS: a Metal request resolves to whatever auto finds.
    fake.port.open = async (gpu) => {
      fake.opened.push(gpu);
      return { kind: gpu === false ? false : 'cuda' };
    };
    const opened = await openBackend('metal', 2, fake.port, fake.use);
    assert.equal(opened.backend.gpu, null);
    assert.equal(opened.backend.fallback, 'Metal is not available on this machine');
    assert.deepEqual(fake.closed, ['cuda']);
  });

  test('a GPU build that finds no GPU, or only a software renderer, is not taken', async () => {
    for (const devices of [[], ['llvmpipe (LLVM 15.0.6, 256 bits)']]) {
      const fake = fakePort(['vulkan']);
      fake.port.devices = async () => devices;
      const opened = await openBackend('auto', 2, fake.port, fake.use);
      assert.equal(opened.value, 'model on cpu');
      assert.match(opened.backend.fallback ?? '', /^Vulkan finds no GPU here/);
      assert.deepEqual(fake.closed, ['vulkan']);
    }
  });

  test('off never opens a GPU build', async () => {
    const fake = fakePort(['cuda']);
    const opened = await openBackend('off', 2, fake.port, fake.use);
    assert.deepEqual(fake.opened, [false]);
    assert.equal(opened.backend.fallback, undefined);
  });

  test('a model that fails on the CPU too is the caller’s error', async () => {
    const fake = fakePort([]);
    await assert.rejects(openBackend('auto', 2, fake.port, async () => Promise.reject(new Error('bad file'))), /bad file/);
  });
});

describe('engine settings: --gpu', () => {
  test('auto by default; the flag over the environment; a bad value refused', () => {
    assert.equal(parseEngineSettings(['--model', 'm.gguf'], {}).gpu, 'auto');
    assert.equal(parseEngineSettings(['--model', 'm.gguf', '--gpu', 'off'], { SVD_ENGINE_GPU: 'cuda' }).gpu, 'off');
    assert.equal(parseEngineSettings(['--model', 'm.gguf'], { SVD_ENGINE_GPU: 'vulkan' }).gpu, 'vulkan');
    assert.throws(() => parseEngineSettings(['--model', 'm.gguf', '--gpu', 'rocm'], {}), /gpu/);
  });
});

// This machine (and CI) has no GPU: node-llama-cpp's real binaries show the fallback. Where an NVIDIA driver is
// present, the CUDA case would rightly not fall back, so it is skipped there.
const hasNvidiaDriver = existsSync('/proc/driver/nvidia');

describe('the real node-llama-cpp on this machine', { timeout: 60_000 }, () => {
  const realPort = async () => llamaPort(await loadNodeLlamaCpp(), 1, () => undefined);
  const gpuOf = async (llama: { gpu: GpuKind | false }) => llama.gpu;

  test('CUDA asked for, no GPU here: the CPU build runs, and the fallback says why', { skip: hasNvidiaDriver }, async () => {
    const port = await realPort();
    const opened = await openBackend('cuda', 1, port, gpuOf);
    try {
      assert.equal(opened.value, false, 'the loaded build computes on the CPU');
      assert.equal(opened.backend.gpu, null);
      assert.match(opened.backend.fallback ?? '', /^the CUDA build of llama\.cpp does not load on this machine \(no driver or runtime/);
      assert.equal(describeBackend(opened.backend), 'CPU, 1 thread');
    } finally {
      await port.close(opened.llama);
    }
  });

  test('Metal asked for off macOS: the CPU', { skip: process.platform === 'darwin' || hasNvidiaDriver }, async () => {
    const port = await realPort();
    const opened = await openBackend('metal', 1, port, gpuOf);
    try {
      assert.equal(opened.value, false);
      assert.equal(opened.backend.fallback, 'Metal is not available on this machine');
    } finally {
      await port.close(opened.llama);
    }
  });
});
