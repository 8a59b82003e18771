/**
 * A minimal Jupyter client: starts the project's tslab kernel and talks the
 * Jupyter messaging protocol (v5.3) to it over ZeroMQ, as Jupyter itself does.
 * https://jupyter-client.readthedocs.io/en/stable/messaging.html
 */
import { ChildProcess, spawn } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import * as zmq from 'zeromq';
import { PROJECT_ROOT } from '../../lib/paths';

const DELIMITER = '<IDS|MSG>';

export interface Message {
  header: { msg_id: string; msg_type: string; session: string; username: string; date: string; version: string };
  parent_header: { msg_id?: string };
  metadata: Record<string, unknown>;
  content: Record<string, unknown>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The project's kernel launcher: tslab from node_modules, with its send fix (environment/tslab-kernel.js). */
export function tslabBin(): string {
  return path.join(PROJECT_ROOT, 'environment', 'tslab-kernel.js');
}

export class KernelClient {
  private key = crypto.randomBytes(16).toString('hex');
  private session = crypto.randomUUID();
  private shell = new zmq.Dealer();
  private control = new zmq.Dealer();
  // no high-water mark: a burst of outputs must not drop messages (the final idle status among them)
  private iopub = new zmq.Subscriber({ receiveHighWaterMark: 0 });
  private proc?: ChildProcess;
  private connectionFile = '';
  private stderrTail: string[] = [];
  private listeners = new Map<string, (m: Message) => void>();
  private exited?: string;

  /** Starts the kernel in `cwd` (a notebook's folder, as Jupyter does) and waits until it answers. */
  async start(cwd: string, env: NodeJS.ProcessEnv): Promise<Message> {
    const [shell, iopub, stdin, control, hb] = await Promise.all([0, 1, 2, 3, 4].map(() => freePort()));
    const conn = {
      shell_port: shell, iopub_port: iopub, stdin_port: stdin, control_port: control, hb_port: hb,
      ip: '127.0.0.1', key: this.key, transport: 'tcp', signature_scheme: 'hmac-sha256', kernel_name: 'fer-tslab',
    };
    this.connectionFile = path.join(os.tmpdir(), `fer-kernel-${process.pid}-${shell}.json`);
    fs.writeFileSync(this.connectionFile, JSON.stringify(conn));
    this.proc = spawn(process.execPath, [tslabBin(), 'kernel', '--config-path', this.connectionFile], {
      cwd, env, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      this.stderrTail.push(...chunk.toString().split('\n'));
      this.stderrTail = this.stderrTail.slice(-40);
    };
    this.proc.stdout?.on('data', keep);
    this.proc.stderr?.on('data', keep);
    this.proc.on('exit', (code, signal) => { this.exited = `kernel exited (${signal ?? `code ${code}`})`; });

    const url = (port: number) => `tcp://127.0.0.1:${port}`;
    this.shell.connect(url(shell));
    this.control.connect(url(control));
    this.iopub.connect(url(iopub));
    this.iopub.subscribe();
    void this.pump(this.iopub);
    void this.pump(this.shell);
    void this.pump(this.control);

    // Ask until the kernel answers on shell *and* its iopub status reaches us,
    // so no output of the first cell is lost to a late subscription.
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (this.exited) throw new Error(`${this.exited} while starting\n${this.stderr()}`);
      const seenStatus = new Promise<void>((resolve) => {
        const msgId = this.send(this.shell, 'kernel_info_request', {});
        this.listeners.set(msgId, (m) => {
          if (m.header.msg_type === 'kernel_info_reply') this.infoReply = m;
          if (m.header.msg_type === 'status') this.statusSeen = true;
          if (this.infoReply && this.statusSeen) resolve();
        });
      });
      await Promise.race([seenStatus, new Promise((r) => setTimeout(r, 500))]);
      if (this.infoReply && this.statusSeen) return this.infoReply;
    }
    throw new Error(`the tslab kernel did not answer within 60 s\n${this.stderr()}`);
  }
  private infoReply?: Message;
  private statusSeen = false;

  /** The kernel's recent stdout/stderr (shown when something fails). */
  stderr(): string {
    return this.stderrTail.filter((l) => l.trim()).join('\n');
  }

  private sign(parts: string[]): string {
    const h = crypto.createHmac('sha256', this.key);
    for (const p of parts) h.update(p);
    return h.digest('hex');
  }

  private send(sock: zmq.Dealer, msgType: string, content: Record<string, unknown>): string {
    const header = {
      msg_id: crypto.randomUUID(), msg_type: msgType, session: this.session,
      username: os.userInfo().username, date: new Date().toISOString(), version: '5.3',
    };
    const parts = [JSON.stringify(header), '{}', '{}', JSON.stringify(content)];
    void sock.send([DELIMITER, this.sign(parts), ...parts]);
    return header.msg_id;
  }

  private async pump(sock: zmq.Dealer | zmq.Subscriber): Promise<void> {
    try {
      for await (const frames of sock) {
        const strings = frames.map((f) => f.toString());
        const i = strings.indexOf(DELIMITER);
        if (i < 0) continue;
        const [signature, ...parts] = strings.slice(i + 1, i + 6);
        if (signature !== this.sign(parts)) continue;  // not from our kernel
        const [header, parent_header, metadata, content] = parts.map((p) => JSON.parse(p));
        const msg: Message = { header, parent_header, metadata, content };
        const parentId = parent_header?.msg_id;
        if (parentId) this.listeners.get(parentId)?.(msg);
      }
    } catch {
      // socket closed
    }
  }

  /**
   * Executes code; `onOutput` sees every iopub message of it. Resolves with
   * the execute_reply once the kernel is idle again.
   */
  async execute(code: string, onOutput: (m: Message) => void, timeoutMs: number): Promise<Message> {
    let reply: Message | undefined;
    let idle = false;
    let msgId = '';
    let watch: NodeJS.Timeout | undefined;
    const done = new Promise<Message>((resolve, reject) => {
      msgId = this.send(this.shell, 'execute_request', {
        code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true,
      });
      const check = () => { if (reply && idle) resolve(reply); };
      this.listeners.set(msgId, (m) => {
        if (m.header.msg_type === 'execute_reply') reply = m;
        else if (m.header.msg_type === 'status') idle = m.content.execution_state === 'idle';
        else onOutput(m);
        check();
      });
      watch = setInterval(() => {
        if (this.exited) reject(new Error(`${this.exited} during the cell\n${this.stderr()}`));
      }, 200);
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          this.proc?.kill('SIGINT');  // tslab interrupts the running cell on SIGINT
          reject(new Error(`cell timed out after ${Math.round(timeoutMs / 1000)} s`));
        }, timeoutMs);
      }
    });
    try {
      return await Promise.race([done, timeout]);
    } finally {
      clearTimeout(timer);
      clearInterval(watch);
      this.listeners.delete(msgId);
    }
  }

  /** Asks the kernel to shut down, then makes sure it is gone. */
  async shutdown(): Promise<void> {
    if (this.proc && !this.exited) {
      this.send(this.control, 'shutdown_request', { restart: false });
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => { this.proc?.kill('SIGKILL'); resolve(); }, 3000);
        this.proc?.once('exit', () => { clearTimeout(t); resolve(); });
      });
    }
    for (const s of [this.shell, this.control, this.iopub]) s.close();
    fs.rmSync(this.connectionFile, { force: true });
  }
}
