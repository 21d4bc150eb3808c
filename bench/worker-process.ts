/**
 * A Herald worker in a process of its own, so the memory scenario can read its resident set from
 * /proc without counting the publisher, the receivers or the benchmark's bookkeeping. The parent
 * drives it over IPC, one command and one answer at a time:
 *   open  { env }  opens Herald on that configuration (no migrations: the parent ran them) -> { ready }
 *   start          starts one worker with the configured settings                          -> { started }
 *   stop           stops the worker (in-flight requests finish) and closes Herald, then exits
 */
import { loadConfig } from '../src/config.js';
import { openHerald, type Herald } from '../src/engine/herald.js';
import { loggerFor } from '../src/logger.js';

type Command = { cmd: 'open'; env: Record<string, string> } | { cmd: 'start' } | { cmd: 'stop' };

let herald: Herald | undefined;

async function onCommand(msg: Command): Promise<void> {
  if (msg.cmd === 'open') {
    const config = loadConfig(msg.env);
    herald = await openHerald({ config, log: loggerFor(config), skipMigrations: true });
    process.send!({ ready: true });
  } else if (msg.cmd === 'start') {
    await herald!.createWorker().start();
    process.send!({ started: true });
  } else if (msg.cmd === 'stop') {
    await herald?.close();
    process.send!({ stopped: true }, () => process.exit(0));
  }
}

process.on('message', (msg: Command) => {
  onCommand(msg).catch((e: unknown) => {
    console.error('bench worker process failed:', e);
    process.exit(1);
  });
});
