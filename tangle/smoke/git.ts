// Which commit a result belongs to, and whether the tree had uncommitted changes (results/ is gitignored, so
// writing results never makes the tree dirty).
import { execa } from 'execa';

export interface GitState {
  commit: string;
  dirty: boolean;
}

export async function gitState(root: string): Promise<GitState> {
  const head = await execa('git', ['rev-parse', '--short=8', 'HEAD'], { cwd: root, reject: false });
  const status = await execa('git', ['status', '--porcelain'], { cwd: root, reject: false });
  return {
    commit: head.exitCode === 0 ? head.stdout.trim() : 'unknown',
    dirty: status.exitCode !== 0 || status.stdout.trim() !== '',
  };
}
