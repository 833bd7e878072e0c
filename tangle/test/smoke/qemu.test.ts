// Boots real QEMU (TCG) on a tiny PVH guest: serial capture, isa-debug-exit decoding, and the hard timeout.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { boot, decodeExit, qemuArgs } from '../../smoke/qemu.js';
import { pvhGuest } from './pvh-fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'capos-qemu-test-'));
function image(name: string, text: string, exit: number | null) {
  writeFileSync(join(dir, `${name}.elf`), pvhGuest(text, exit));
  writeFileSync(join(dir, 'initrd.bin'), Buffer.from('not a manifest'));
  return { kernel: `${name}.elf`, initrd: 'initrd.bin' };
}

describe('qemu driver', () => {
  it('decodes isa-debug-exit statuses', () => {
    expect(decodeExit(1)).toBe(0);
    expect(decodeExit(7)).toBe(3);
    expect(decodeExit(255)).toBe(127);
    expect(decodeExit(0)).toBeNull();
    expect(decodeExit(null)).toBeNull();
  });

  it('uses the contract command line with only -accel varying', () => {
    const a = qemuArgs({ kernel: 'k', initrd: 'i' }, 'tcg').join(' ');
    expect(a).toBe(
      '-accel tcg -bios /usr/share/qemu/qboot.rom -cpu qemu64,+rdrand -m 512M -kernel k -initrd i -serial stdio -display none -monitor none ' +
        '-no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04',
    );
  });

  it('captures serial lines and the exit status of a guest that exits', async () => {
    const out = await boot(image('exit3', '[kernel] hi\r\n[kernel] init exited with 3\r\n', 3), { accel: 'tcg', timeoutMs: 20000, cwd: dir });
    expect(out.timedOut).toBe(false);
    expect(out.qemuStatus).toBe(7);
    expect(out.exitStatus).toBe(3);
    expect(out.transcript).toEqual(['[kernel] hi', '[kernel] init exited with 3']);
  }, 30000);

  it('kills a guest that never exits at the timeout and keeps what it printed', async () => {
    const t0 = Date.now();
    const out = await boot(image('hang', 'stuck\n', null), { accel: 'tcg', timeoutMs: 1500, cwd: dir });
    expect(out.timedOut).toBe(true);
    expect(out.exitStatus).toBeNull();
    expect(out.transcript).toEqual(['stuck']);
    expect(Date.now() - t0).toBeLessThan(10000);
  }, 30000);
});
