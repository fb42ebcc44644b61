/**
 * Exits once what this process wrote to stdout and stderr has been handed to the system.
 * `process.exit` alone drops what a pipe has not taken yet (writes to a pipe are asynchronous
 * on POSIX: a reader that lags behind by more than the pipe's buffer, 64 KiB on Linux, would
 * lose the end of the output). A reader that takes nothing at all is waited for `maxWaitMs`.
 */
export async function exitWhenFlushed(code: number, maxWaitMs = 5_000): Promise<never> {
  const flushed = (stream: NodeJS.WriteStream) =>
    new Promise<void>((done) => {
      if (stream.destroyed || !stream.writable) done();
      // Written in order: the empty write's callback runs once every earlier write is out.
      else stream.write('', () => done());
    });
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<void>((done) => {
    timer = setTimeout(done, maxWaitMs);
  });
  await Promise.race([Promise.all([flushed(process.stdout), flushed(process.stderr)]), waited]);
  clearTimeout(timer);
  process.exit(code);
}
