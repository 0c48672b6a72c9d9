// Which of node-llama-cpp's prebuilt binary packages each .vsix target carries. node-llama-cpp picks at run time among
// those present (Metal on Apple silicon; CUDA, then Vulkan, then the CPU elsewhere), so a target ships every build
// its machines may use and the CPU build to fall back on. Sizes: npm tarballs of 3.21.1, as the README states them.
//
// Left out on purpose:
// - linux-x64-cuda-ext and win-x64-cuda-ext: a second CUDA build for the older CUDA 12 runtime, about 370 MB
//   unpacked each, which would push the package past Open VSX's 256 MB upload limit. Without it, a machine with
//   CUDA 12 only runs on Vulkan (any NVIDIA driver provides it) or the CPU.
// - linux-riscv64: no VS Code build for it.

/** VS Code's target (`code --install-extension` on that platform) -> the @node-llama-cpp packages it carries. */
export const ENGINE_PACKAGES = {
  'linux-x64': ['linux-x64', 'linux-x64-cuda', 'linux-x64-vulkan'],
  'linux-arm64': ['linux-arm64'],
  'linux-armhf': ['linux-armv7l'],
  'darwin-arm64': ['mac-arm64-metal'],
  'darwin-x64': ['mac-x64'],
  'win32-x64': ['win-x64', 'win-x64-cuda', 'win-x64-vulkan'],
  'win32-arm64': ['win-arm64'],
};

/** This machine's target, as VS Code names it (`linux-armhf` for 32-bit ARM). */
export function currentTarget(platform = process.platform, arch = process.arch) {
  return `${platform}-${arch === 'arm' ? 'armhf' : arch}`;
}

/** The packages of `target`; a target node-llama-cpp has no binaries for is an error naming the known ones. */
export function enginePackagesFor(target) {
  const packages = ENGINE_PACKAGES[target];
  if (!packages) {
    throw new Error(`unknown target "${target}": the embedded engine has binaries for ${Object.keys(ENGINE_PACKAGES).join(', ')}`);
  }
  return packages;
}
