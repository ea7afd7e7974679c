/**
 * usermock for Node test runners (Jest, Vitest): start the `usermock`
 * binary on a free port, give each test its own `X-Usermock-Session`, and
 * drive the admin API (reset, scenarios, verification). Only Node's own
 * modules and `fetch`; no Rust toolchain: a release binary on PATH, or
 * `USERMOCK_BIN`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";

export const SESSION_HEADER = "X-Usermock-Session";
const LISTENING = "usermock listening on ";

export class UsermockError extends Error {}

export interface StartOptions {
  /** The binary; default `USERMOCK_BIN`, then `usermock` on PATH. */
  binary?: string;
  /** Extra server arguments, e.g. `["--fixtures", "test/fixtures"]`. */
  args?: string[];
  adminToken?: string;
  /** How long to wait for the listening line (ms, default 15000). */
  startTimeoutMs?: number;
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json<T = unknown>(): T;
}

/** A matcher in the vocabulary of a scenario rule's `match`. */
export type Matcher = Record<string, unknown>;

export interface JournalEntry {
  id: number;
  method: string;
  path: string;
  status: number | null;
  json?: unknown;
  notes?: { rule: string; message: string; source: string }[];
  [member: string]: unknown;
}

export class UsermockServer {
  private stderr = "";

  private constructor(
    private readonly child: ChildProcess,
    /** The server's root URL, `http://127.0.0.1:PORT`. */
    readonly baseUrl: string,
    readonly adminToken?: string,
  ) {
    child.stderr?.on("data", (chunk: Buffer) => {
      this.stderr += chunk.toString("utf8");
    });
  }

  /** Starts usermock on a free loopback port and waits until it listens. */
  static async start(options: StartOptions = {}): Promise<UsermockServer> {
    const binary = options.binary ?? process.env.USERMOCK_BIN ?? "usermock";
    const args = ["--listen", "127.0.0.1:0", ...(options.args ?? [])];
    if (options.adminToken) args.push("--admin-token", options.adminToken);
    const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const line = await new Promise<string>((resolve, reject) => {
      let stdout = "";
      const timer = setTimeout(
        () => reject(new UsermockError(`usermock printed no listening line in time\n${stderr}`)),
        options.startTimeoutMs ?? 15000,
      );
      child.on("error", (err) => {
        clearTimeout(timer);
        reject(new UsermockError(`cannot start ${binary}: ${err.message} (set USERMOCK_BIN)`));
      });
      child.on("exit", (code) => {
        clearTimeout(timer);
        reject(new UsermockError(`usermock exited with ${code}:\n${stderr}`));
      });
      child.stdout?.on("data", (chunk: Buffer) => {
        stdout += chunk.toString("utf8");
        const end = stdout.indexOf("\n");
        if (end >= 0) {
          clearTimeout(timer);
          resolve(stdout.slice(0, end));
        }
      });
    });
    if (!line.startsWith(LISTENING)) {
      child.kill();
      throw new UsermockError(`unexpected first line ${JSON.stringify(line)}`);
    }
    child.removeAllListeners("exit");
    return new UsermockServer(child, line.slice(LISTENING.length).trim(), options.adminToken);
  }

  /** What the server logged, for a failing test's message. */
  get log(): string {
    return this.stderr;
  }

  /** Stops the server (SIGTERM; it drains in-flight requests). */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      this.child.once("exit", () => resolve());
      this.child.kill("SIGTERM");
    });
  }

  /** The base URL a client of `vendor` gets in place of the vendor's real
   * one, e.g. `http://127.0.0.1:PORT/relesys/api/v1.3`. */
  async apiBase(vendor: string): Promise<string> {
    const health = (await this.admin("GET", "/__admin/health")).json<{
      api_bases: Record<string, string>;
    }>();
    const base = health.api_bases[vendor];
    if (base === undefined) {
      throw new UsermockError(
        `no vendor named '${vendor}' (known: ${Object.keys(health.api_bases).join(", ")})`,
      );
    }
    return this.baseUrl + base;
  }

  /** One request to any route of the server, with a JSON body. */
  async request(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    const all: Record<string, string> = { ...headers };
    let payload: string | undefined;
    if (body !== undefined) {
      payload = JSON.stringify(body);
      all["Content-Type"] ??= "application/json";
    }
    const response = await fetch(this.baseUrl + path, { method, headers: all, body: payload });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      text,
      json: <T>() => JSON.parse(text) as T,
    };
  }

  /** An admin call; throws unless it answers as expected. */
  async admin(
    method: string,
    path: string,
    body?: unknown,
    session?: string,
    expect: number[] = [200, 201],
  ): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (session) headers[SESSION_HEADER] = session;
    if (this.adminToken) headers.Authorization = `Bearer ${this.adminToken}`;
    const answer = await this.request(method, path, method === "GET" ? body : (body ?? {}), headers);
    if (!expect.includes(answer.status)) {
      throw new UsermockError(`${method} ${path} answered ${answer.status}: ${answer.text}`);
    }
    return answer;
  }

  /** A view for one test: its own state, journal, scenarios and clock. */
  session(name: string = `node-${randomUUID()}`): UsermockSession {
    return new UsermockSession(this, name);
  }
}

export class UsermockSession {
  constructor(
    readonly server: UsermockServer,
    readonly name: string,
  ) {}

  /** Send these with every vendor request of the test. */
  get headers(): Record<string, string> {
    return { [SESSION_HEADER]: this.name };
  }

  request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    return this.server.request(method, path, body, { ...this.headers, ...headers });
  }

  async reset(): Promise<void> {
    await this.server.admin("POST", "/__admin/reset", undefined, this.name);
  }

  /** Turns a scenario on for this session only. */
  async activate(scenario: string): Promise<void> {
    const answer = await this.server.admin(
      "POST",
      `/__admin/scenarios/${encodeURIComponent(scenario)}/activate`,
      undefined,
      this.name,
      [200, 404],
    );
    if (answer.status === 404) {
      throw new UsermockError(`no scenario is named '${scenario}': ${answer.text}`);
    }
  }

  /**
   * Every page of a journal listing: the server answers at most 1000 entries
   * a call and says in `next_after` where the next page starts.
   */
  private async allPages(
    method: string,
    path: string,
    body?: unknown,
    query = "",
  ): Promise<JournalEntry[]> {
    const entries: JournalEntry[] = [];
    let after: number | null = null;
    for (;;) {
      const page = `${path}?${query}${query ? "&" : ""}limit=1000` + (after === null ? "" : `&after=${after}`);
      const answer = await this.server.admin(method, page, body, this.name);
      const listing = answer.json<{ requests: JournalEntry[]; next_after?: number | null }>();
      entries.push(...listing.requests);
      const next = listing.next_after ?? null;
      if (next === null || (after !== null && next <= after)) return entries;
      after = next;
    }
  }

  async requests(matcher: Matcher = {}): Promise<JournalEntry[]> {
    return this.allPages("POST", "/__admin/requests/find", matcher);
  }

  async count(matcher: Matcher = {}): Promise<number> {
    const answer = await this.server.admin("POST", "/__admin/requests/count", matcher, this.name);
    return answer.json<{ count: number }>().count;
  }

  /** Throws unless exactly `times` requests of this session match. */
  async expect(times: number, matcher: Matcher): Promise<void> {
    const found = await this.requests(matcher);
    if (found.length !== times) {
      const seen = found.map((r) => `${r.method} ${r.path} -> ${r.status}`).join("; ");
      throw new Error(
        `expected ${times} request(s) matching ${JSON.stringify(matcher)}, found ${found.length}: ${seen}`,
      );
    }
  }

  /** Requests whose answer relied on a rule usermock inferred. */
  async noted(): Promise<JournalEntry[]> {
    return this.allPages("GET", "/__admin/requests", undefined, "noted=true");
  }
}

/**
 * A Vitest/Jest `globalSetup`: starts one usermock for the run and exposes
 * its root URL to the tests as `USERMOCK_URL`; returns the teardown.
 * (`export default usermockGlobalSetup` from your global-setup file.)
 */
export async function usermockGlobalSetup(options: StartOptions = {}): Promise<() => Promise<void>> {
  const server = await UsermockServer.start(options);
  process.env.USERMOCK_URL = server.baseUrl;
  return () => server.stop();
}

/** The server a `globalSetup` started, from a test file. */
export function connect(adminToken?: string): UsermockServer {
  const url = process.env.USERMOCK_URL;
  if (!url) throw new UsermockError("USERMOCK_URL is not set: add usermockGlobalSetup as the runner's globalSetup");
  return Object.assign(Object.create(UsermockServer.prototype), { baseUrl: url, adminToken }) as UsermockServer;
}
