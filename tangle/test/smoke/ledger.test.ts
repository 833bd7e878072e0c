import { describe, expect, it } from 'vitest';
import { ledgerOfBoots, parseLedger } from '../../smoke/ledger.js';

// A transcript as capos-wasm prints it on capOS (appendix A.10), with guest output and other services between.
const transcript = [
  '[kernel] capOS booting',
  '[wasm-host] the ledger guest ran',
  '[wasm-host] frugal exited with 0',
  '[wasm-host] ledger frugal grants console dir:/data random timer',
  '[wasm-host] ledger frugal cap console fd_write=3 fd_write!FAULT=1',
  '[other] an unrelated line in between',
  '[wasm-host] ledger frugal cap dir:/data path_open=2 path_open!NOENT=1',
  '[wasm-host] ledger frugal cap dir:/data fd_read=5',
  '[wasm-host] ledger frugal cap wallclock clock_time_get!NOSYS=2',
  '[wasm-host] ledger frugal unused random timer',
  '[wasm-host] ledger sealed grants -',
  '[wasm-host] ledger sealed cap random random_get!NOSYS=1',
  '[cue] ledger sealed grants console',
];

describe('parseLedger', () => {
  it('reads grants, every counted call with its outcome, and derives used, refused and unused', () => {
    const [frugal, sealed, other] = parseLedger(transcript);
    expect(frugal).toEqual({
      boot: 0,
      service: 'wasm-host',
      instance: 'frugal',
      granted: ['console', 'dir:/data', 'random', 'timer'],
      calls: [
        { cap: 'console', import: 'fd_write', outcome: 'answered', count: 3 },
        { cap: 'console', import: 'fd_write', outcome: 'faulted', errno: 'FAULT', count: 1 },
        { cap: 'dir:/data', import: 'path_open', outcome: 'answered', count: 2 },
        { cap: 'dir:/data', import: 'path_open', outcome: 'refused', errno: 'NOENT', count: 1 },
        { cap: 'dir:/data', import: 'fd_read', outcome: 'answered', count: 5 },
        { cap: 'wallclock', import: 'clock_time_get', outcome: 'refused', errno: 'NOSYS', count: 2 },
      ],
      used: ['console', 'dir:/data'],
      refused: ['dir:/data', 'wallclock'],
      unused: ['random', 'timer'],
    });
    expect(sealed).toMatchObject({ instance: 'sealed', granted: [], used: [], refused: ['random'], unused: [] });
    // The same instance name in another service is another ledger.
    expect(other).toMatchObject({ service: 'cue', instance: 'sealed', granted: ['console'], calls: [], unused: ['console'] });
  });

  it('skips what is not exactly a ledger line, so guest output cannot forge one', () => {
    const records = parseLedger([
      '[wasm-host] ledger x cap console fd_write=1', // no grants line before it
      '[wasm-host] ledger of accounts: 3 entries',
      '[wasm-host] ledger y grants console',
      '[wasm-host] ledger y cap console fd_write=0', // a count of zero is never printed
      '[wasm-host] ledger y cap console fd_write!badf=1', // errnos are upper case
      '[wasm-host] ledger y cap console', // no entries
      '[wasm-host] ledger y cap console fd_write=2 junk',
      '[wasm-host] ledger y cap console fd_write=1   ', // trailing blanks are not part of a line
    ]);
    expect(records).toHaveLength(1);
    expect(records[0]!.calls).toEqual([{ cap: 'console', import: 'fd_write', outcome: 'answered', count: 1 }]);
  });

  it('numbers boots', () => {
    const boots = [{ transcript: ['[h] ledger a grants -'] }, { transcript: ['[h] ledger a grants timer'] }];
    expect(ledgerOfBoots(boots).map((r) => [r.boot, r.unused])).toEqual([
      [0, []],
      [1, ['timer']],
    ]);
  });
});
