/**
 * Ctrl-C and SIGTERM during long work: the first asks the work to stop
 * cleanly (it marks what is unfinished); a second one exits at once.
 */
export function onInterrupt(stop: () => void): () => void {
  let count = 0;
  const handler = (signal: NodeJS.Signals) => {
    count++;
    if (count === 1) {
      process.stderr.write(signal === 'SIGINT' ? '\nStopping cleanly… press Ctrl-C again to quit at once.\n' : `Stopping cleanly (${signal}).\n`);
      stop();
    } else {
      process.exit(130);
    }
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
