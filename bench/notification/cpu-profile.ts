// Reads a V8 CPU profile (node --cpu-prof) and sums it over a window of CLOCK_MONOTONIC time (the
// profile's own clock, and process.hrtime's in every process): self time per function, self time per
// area of the code (a package, a lib, a service folder, node's internals, the garbage collector), and
// inclusive time of the project's own functions.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface Spot {
  readonly name: string;
  readonly ms: number;
  /** Of the window's busy (not idle) time. */
  readonly share: number;
}

export interface ProfileSummary {
  /** Sampled time in the window, ms (busy and idle). */
  readonly windowMs: number;
  /** Of which not idle. */
  readonly busyMs: number;
  readonly selfByFunction: readonly Spot[];
  readonly selfByArea: readonly Spot[];
  /** Functions of services/ and libs/, time with everything they called. */
  readonly inclusiveProject: readonly Spot[];
}

const ROOT = path.resolve(__dirname, '../..');

function where(url: string): string {
  if (url === '') return '';
  const file = url.startsWith('file://') ? url.slice('file://'.length) : url;
  return file.startsWith('/') ? path.relative(ROOT, file) : file;
}

/** A package, a lib, a service folder, node's internals, or one of V8's pseudo-frames. */
function areaOf(frame: CallFrame): string {
  const file = where(frame.url);
  if (file === '') return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  if (file.startsWith('node:')) return 'node internals';
  const modules = file.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const parts = file.slice(modules + 'node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  const parts = file.split('/');
  if (parts[0] === 'libs') return `libs/${parts[1]}`;
  if (parts[0] === 'services') return parts.slice(0, Math.min(parts.length - 1, 4)).join('/');
  return file;
}

function label(frame: CallFrame): string {
  const file = where(frame.url);
  const name = frame.functionName || '(anonymous)';
  return file === '' ? name : `${name}  ${file}:${frame.lineNumber + 1}`;
}

function top(map: Map<string, number>, total: number, n: number): Spot[] {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, us]) => ({ name, ms: us / 1000, share: us / total }));
}

/** Sums the profile at `file` over [fromUs, toUs] of CLOCK_MONOTONIC. */
export function summarizeProfile(file: string, fromUs: number, toUs: number, n = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const selfByFunction = new Map<string, number>();
  const selfByArea = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let windowUs = 0;
  let idleUs = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i];
    // A sample stands for the time until the next one.
    const next = i + 1 < profile.samples.length ? at + profile.timeDeltas[i + 1] : profile.endTime;
    const us = Math.max(0, Math.min(next, toUs) - Math.max(at, fromUs));
    if (us === 0) continue;
    const node = byId.get(profile.samples[i])!;
    windowUs += us;
    if (node.callFrame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const key = label(node.callFrame);
    selfByFunction.set(key, (selfByFunction.get(key) ?? 0) + us);
    const area = areaOf(node.callFrame);
    selfByArea.set(area, (selfByArea.get(area) ?? 0) + us);
    // Each project function on the stack once, however deep its recursion.
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame;
      const file = where(frame.url);
      if (!file.startsWith('services/') && !file.startsWith('libs/')) continue;
      const name = label(frame);
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + us);
    }
  }
  return {
    windowMs: windowUs / 1000,
    busyMs: (windowUs - idleUs) / 1000,
    selfByFunction: top(selfByFunction, windowUs - idleUs, n),
    selfByArea: top(selfByArea, windowUs - idleUs, n),
    inclusiveProject: top(inclusive, windowUs - idleUs, n),
  };
}
