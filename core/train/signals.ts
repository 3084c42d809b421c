/** The signals a CLI run answers: the one noted, if any, and how to stop listening. */
export interface SignalWatch {
  received?: 'SIGINT' | 'SIGTERM';
  stop(): void;
}

/** SIGINT/SIGTERM noted (the loop stops after its step); a second one exits at once. */
export function watchSignals(): SignalWatch {
  const state: SignalWatch = { stop: () => {} };
  const on = (sig: 'SIGINT' | 'SIGTERM') => () => {
    if (state.received) process.exit(sig === 'SIGINT' ? 130 : 143);
    state.received = sig;
    process.stderr.write(`\n${sig}: stopping after this step (again to quit at once)\n`);
  };
  const onInt = on('SIGINT');
  const onTerm = on('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  state.stop = () => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  };
  return state;
}
