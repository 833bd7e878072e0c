// The store's bench (appendix A.7): the same file workload through the store's Namespace and File caps on capOS and
// on ext4 in the Linux guest (tangle/bench/linux-guest), each on a fresh 64 MiB virtio-blk disk in the contract's
// QEMU line. Runs alternate (guest boot, then capOS boot) so each pair is minutes apart at most; the table gives each
// side's medians and the median of the per-run ratios. Writes results/bench/store.json.
import { execa } from 'execa';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { imagePath } from '../build/images.js';
import { writeAtomic } from '../build/stamp.js';
import type { Accelerator } from '../smoke/qemu.js';
import { DEFAULT_CPU } from '../smoke/qemu.js';
import { gitState } from '../smoke/git.js';
import { createDisk, KERNEL } from '../smoke/runner.js';
import { parseFigures } from './figures.js';
import { bootLinuxGuest, prepareLinuxGuest, type LinuxGuestImage } from './linux-guest/index.js';
import { bootTimed, fmtRatio, median } from './measure.js';
import { formatReport, makeReport, reportPath, writeReport, type Report, type ReportTable } from './report.js';
import { NATIVE } from './native.js';

export const STORE_MANIFEST = 'manifests/system-bench-store.cue';
export const STORE_RESULT = 'results/bench/store.json';
const DISK_BYTES = 64 << 20;
const CAPOS_DISK = 'build/disks/system-bench-store.img';
const GUEST_DISK = 'build/disks/linux-store-bench.img';

/** The figures, in the order both programs print them; `higher` says which way is better. */
export const STORE_METRICS = [
  { metric: 'store_seq_write', what: 'sequential write, 4 MiB in 16 KiB, then sync', higher: true },
  { metric: 'store_seq_read', what: 'sequential read, 16 KiB requests', higher: true },
  { metric: 'store_rand_read_4k', what: '4 KiB random reads', higher: true },
  { metric: 'store_rand_write_4k', what: '4 KiB random writes, then sync', higher: true },
  { metric: 'store_create_512', what: 'create + write 512 B (200 files, then sync), per file', higher: false },
  { metric: 'store_stat', what: 'stat, per file', higher: false },
  { metric: 'store_unlink', what: 'remove (200 files, then sync), per file', higher: false },
  { metric: 'store_write_sync_4k', what: 'write 4 KiB + sync, per round', higher: false },
] as const;

type Values = Record<string, { value: number; unit: string }>;
export interface StoreRun {
  capos: Values;
  linux: Values;
}
export interface StoreBench {
  image: LinuxGuestImage | null;
  runs: StoreRun[];
  errors: string[];
}

/** `bench store_* N unit` lines of one boot, from any process (the guest's lines carry no process tag: add one). */
export function storeFigures(transcript: string[]): Values {
  const out: Values = {};
  for (const f of parseFigures(transcript.map((l) => (l.startsWith('[') ? l : `[guest] ${l}`)))) {
    if (f.metric.startsWith('store_')) out[f.metric] = { value: f.value, unit: f.unit };
  }
  return out;
}

/** The guest's disk: ext4 made on the host by mkfs.ext4, with the inode tables and journal written now (not lazily
 *  by a kernel thread during the run). */
async function ext4Disk(root: string): Promise<void> {
  await createDisk(join(root, GUEST_DISK), DISK_BYTES);
  const r = await execa('mkfs.ext4', ['-F', '-q', '-E', 'lazy_itable_init=0,lazy_journal_init=0', GUEST_DISK], { cwd: root, reject: false });
  if (r.exitCode !== 0) throw new Error(`mkfs.ext4 ${GUEST_DISK} failed: ${String(r.stderr).trim()}`);
}

export async function benchStore(root: string, accel: Accelerator, runs: number, log: (l: string) => void): Promise<StoreBench> {
  const errors: string[] = [];
  let image: LinuxGuestImage;
  try {
    image = await prepareLinuxGuest(
      {
        programs: [{ host: join(root, NATIVE.store), guestPath: '/bench/linux-store-bench' }],
        modules: ['virtio_pci', 'virtio_blk'],
        commands: ['mkdir -p /mnt', 'mount -t ext4 /dev/vda /mnt', '/bench/linux-store-bench /mnt', 'umount /mnt'],
      },
      { log },
    );
  } catch (e) {
    return { image: null, runs: [], errors: [`linux guest: ${e instanceof Error ? e.message : String(e)}`] };
  }
  log(`  store bench: ${runs} runs, each a Linux guest boot (ext4) and a capOS boot (the store), fresh 64 MiB disks`);
  const out: StoreRun[] = [];
  for (let r = 0; r < runs; r++) {
    await ext4Disk(root);
    const g = await bootLinuxGuest({ kernel: image.kernel, initrd: image.initrd, disk: GUEST_DISK }, accel, root, 600_000);
    if (g.outcome.timedOut || g.status !== 0) {
      errors.push(
        `linux guest boot ${r + 1} failed (${g.outcome.timedOut ? 'timeout' : `status ${g.status ?? 'missing'}`}):\n` +
          g.outcome.transcript
            .slice(-8)
            .map((l) => `    ${l}`)
            .join('\n'),
      );
      break;
    }
    await createDisk(join(root, CAPOS_DISK), DISK_BYTES);
    const c = await bootTimed({ kernel: KERNEL, initrd: imagePath(STORE_MANIFEST), disk: CAPOS_DISK }, accel, root, 600_000);
    if (c.outcome.timedOut || c.outcome.exitStatus !== 0) {
      errors.push(
        `${STORE_MANIFEST} boot ${r + 1} failed (${c.outcome.timedOut ? 'timeout' : `exit ${c.outcome.exitStatus}`}):\n` +
          c.outcome.transcript
            .slice(-8)
            .map((l) => `    ${l}`)
            .join('\n'),
      );
      break;
    }
    const run = { linux: storeFigures(g.outcome.transcript), capos: storeFigures(c.outcome.transcript) };
    const missing = STORE_METRICS.flatMap(({ metric }) => [
      ...(run.linux[metric] ? [] : [`Linux ${metric}`]),
      ...(run.capos[metric] ? [] : [`capOS ${metric}`]),
    ]);
    if (missing.length) {
      errors.push(`run ${r + 1}: no figure for ${missing.join(', ')}`);
      break;
    }
    out.push(run);
    log(`  store bench: run ${r + 1} of ${runs} done`);
  }
  return { image, runs: out, errors };
}

const med = (xs: (number | undefined)[]) => {
  const v = xs.filter((x): x is number => x !== undefined);
  return v.length ? median(v) : undefined;
};

export interface StoreRow {
  metric: string;
  what: string;
  unit: string;
  higher: boolean;
  capos?: number;
  linux?: number;
  ratio?: number;
}

/** Medians of each side and of the per-run capOS ÷ Linux ratios. */
export function storeRows(b: StoreBench): StoreRow[] {
  return STORE_METRICS.map(({ metric, what, higher }) => {
    const unit = b.runs.find((r) => r.capos[metric])?.capos[metric]?.unit ?? b.runs.find((r) => r.linux[metric])?.linux[metric]?.unit ?? '';
    const capos = med(b.runs.map((r) => r.capos[metric]?.value));
    const linux = med(b.runs.map((r) => r.linux[metric]?.value));
    const ratio = med(b.runs.map((r) => (r.capos[metric] && r.linux[metric]?.value ? r.capos[metric]!.value / r.linux[metric]!.value : undefined)));
    return {
      metric,
      what,
      unit,
      higher,
      ...(capos !== undefined ? { capos } : {}),
      ...(linux !== undefined ? { linux } : {}),
      ...(ratio !== undefined ? { ratio } : {}),
    };
  });
}

/** The comparison as the published report: one table, one row per figure, the ratio as the last column. */
export function storeTables(b: StoreBench): ReportTable[] {
  if (b.runs.length === 0) return [];
  const how =
    `Medians of ${b.runs.length} runs, each a Linux boot then a capOS boot in qemu-system-x86_64 -cpu ${DEFAULT_CPU} -m 512M ` +
    `on a fresh 64 MiB virtio-blk disk (${b.image?.kernelPackage ?? 'Linux'}); ratio: median of per-run ratios. Linux drops its page ` +
    'cache before each read phase, because the store has no cache; sync is fsync or syncfs there.';
  return [
    {
      title: 'Store workload: capOS store vs Linux ext4',
      how,
      columns: [{ label: 'figure' }, { label: 'unit' }, { label: 'better' }, { label: 'capOS store' }, { label: 'Linux ext4' }, { label: 'capOS ÷ Linux' }],
      rows: storeRows(b).map((r) => [
        r.what,
        r.unit,
        r.higher ? 'higher' : 'lower',
        r.capos ?? null,
        r.linux ?? null,
        r.ratio !== undefined ? fmtRatio(r.ratio) : null,
      ]),
      chart: { columns: [3, 4], scale: 'row', unitColumn: 1 },
    },
  ];
}

export async function writeStoreResult(root: string, b: StoreBench, accel: Accelerator, load: number): Promise<Report> {
  const git = await gitState(root);
  await writeAtomic(
    join(root, STORE_RESULT),
    `${JSON.stringify(
      {
        schemaVersion: 1,
        at: new Date().toISOString(),
        commit: git.commit,
        dirty: git.dirty,
        accelerator: accel,
        loadAvg1mAtStart: Number(load.toFixed(2)),
        linuxKernel: b.image?.kernelPackage ?? null,
        rows: storeRows(b),
        runs: b.runs,
        errors: b.errors,
      },
      null,
      2,
    )}\n`,
  );
  const report = await makeReport(root, 'store', accel, storeTables(b), b.errors, load);
  await writeReport(root, report);
  return report;
}

/** `npm run bench -- store`: returns the number of failures. */
export async function runStoreBench(root: string, accel: Accelerator, runs: number, log: (l: string) => void): Promise<number> {
  const load = loadavg()[0]!;
  const b = await benchStore(root, accel, runs, log);
  const report = await writeStoreResult(root, b, accel, load);
  log('');
  for (const l of formatReport(report)) log(l);
  log(`  → ${STORE_RESULT}, ${reportPath('store')}`);
  return b.errors.length;
}
