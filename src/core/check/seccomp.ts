// The seccomp filter the sandboxed program runs under, as the raw classic-BPF program that bubblewrap's `--seccomp FD`
// loads. The kernel applies it to the program and everything it starts, and nothing can lift it again.
//
// What it takes away: new processes (fork, vfork, clone without CLONE_THREAD; threads stay allowed), so a program
// is one process and its rlimits are limits over all it does; sockets of every family (the network namespace is
// empty too, but a Unix socket to a host path or an abstract one would not need the network); and the kernel
// interfaces a contained program never needs and escapes are made of (ptrace, io_uring, namespaces, mounts, bpf,
// keyrings, userfaultfd, perf). A syscall from another ABI (x32, 32-bit compat) kills the process: its numbers differ.

/** Linux architectures the filter is written for; elsewhere the sandbox reports itself unavailable. */
export type SeccompArch = 'x64' | 'arm64';

// struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6].
const NR = 0;
const ARCH = 4;
const ARG0_LOW = 16;

const BPF_LD_W_ABS = 0x20;
const BPF_JEQ_K = 0x15;
const BPF_JGE_K = 0x35;
const BPF_JSET_K = 0x45;
const BPF_RET_K = 0x06;

const RET_ALLOW = 0x7fff0000;
const RET_KILL_PROCESS = 0x80000000;
const retErrno = (errno: number) => 0x00050000 | errno;

const EPERM = 1;
const EACCES = 13;
const ENOSYS = 38;
const CLONE_THREAD = 0x00010000;
const X32_SYSCALL_BIT = 0x40000000;

interface ArchTable {
  audit: number;
  clone: number;
  clone3: number;
  /** Refused with EPERM: making processes other than threads. */
  processes: number[];
  /** Refused with EACCES. */
  sockets: number[];
  /** Refused with EPERM. */
  kernel: number[];
}

// Syscall numbers from the kernel's tables (arch/x86/entry/syscalls/syscall_64.tbl, include/uapi/asm-generic/unistd.h).
const TABLES: Record<SeccompArch, ArchTable> = {
  x64: {
    audit: 0xc000003e,
    clone: 56,
    clone3: 435,
    processes: [57 /* fork */, 58 /* vfork */],
    sockets: [41 /* socket */],
    kernel: [
      101 /* ptrace */, 310 /* process_vm_readv */, 311 /* process_vm_writev */, 425, 426, 427 /* io_uring */,
      272 /* unshare */, 308 /* setns */, 165 /* mount */, 166 /* umount2 */, 155 /* pivot_root */, 161 /* chroot */,
      321 /* bpf */, 298 /* perf_event_open */, 323 /* userfaultfd */, 248 /* add_key */, 249 /* request_key */,
      250 /* keyctl */, 428 /* open_tree */, 429 /* move_mount */, 430 /* fsopen */, 432 /* fsmount */,
    ],
  },
  arm64: {
    audit: 0xc00000b7,
    clone: 220,
    clone3: 435,
    processes: [],
    sockets: [198 /* socket */],
    kernel: [
      117 /* ptrace */, 270 /* process_vm_readv */, 271 /* process_vm_writev */, 425, 426, 427 /* io_uring */,
      97 /* unshare */, 268 /* setns */, 40 /* mount */, 39 /* umount2 */, 41 /* pivot_root */, 51 /* chroot */,
      280 /* bpf */, 241 /* perf_event_open */, 282 /* userfaultfd */, 217 /* add_key */, 218 /* request_key */,
      219 /* keyctl */, 428 /* open_tree */, 429 /* move_mount */, 430 /* fsopen */, 432 /* fsmount */,
    ],
  },
};

type Instruction = [code: number, jt: number, jf: number, k: number];

/** The architecture of this process, if the filter knows it. */
export function seccompArch(arch: string = process.arch): SeccompArch | undefined {
  return arch === 'x64' || arch === 'arm64' ? arch : undefined;
}

/** The filter for `arch`, as bytes of struct sock_filter (little-endian, as both architectures are). */
export function seccompFilter(arch: SeccompArch): Buffer {
  const table = TABLES[arch];
  const program: Instruction[] = [
    [BPF_LD_W_ABS, 0, 0, ARCH],
    [BPF_JEQ_K, 1, 0, table.audit],
    [BPF_RET_K, 0, 0, RET_KILL_PROCESS],
    [BPF_LD_W_ABS, 0, 0, NR],
  ];
  if (arch === 'x64') program.push([BPF_JGE_K, 0, 1, X32_SYSCALL_BIT], [BPF_RET_K, 0, 0, RET_KILL_PROCESS]);
  const refuse = (nr: number, errno: number) => program.push([BPF_JEQ_K, 0, 1, nr], [BPF_RET_K, 0, 0, retErrno(errno)]);
  for (const nr of table.processes) refuse(nr, EPERM);
  for (const nr of table.kernel) refuse(nr, EPERM);
  for (const nr of table.sockets) refuse(nr, EACCES);
  // clone3 passes its flags in memory, where a filter cannot look: ENOSYS makes the C library fall back to clone.
  refuse(table.clone3, ENOSYS);
  program.push(
    [BPF_JEQ_K, 0, 4, table.clone],
    [BPF_LD_W_ABS, 0, 0, ARG0_LOW],
    [BPF_JSET_K, 1, 0, CLONE_THREAD],
    [BPF_RET_K, 0, 0, retErrno(EPERM)],
    [BPF_RET_K, 0, 0, RET_ALLOW],
    [BPF_RET_K, 0, 0, RET_ALLOW],
  );
  const bytes = Buffer.alloc(program.length * 8);
  program.forEach(([code, jt, jf, k], i) => {
    bytes.writeUInt16LE(code, i * 8);
    bytes.writeUInt8(jt, i * 8 + 2);
    bytes.writeUInt8(jf, i * 8 + 3);
    bytes.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return bytes;
}
