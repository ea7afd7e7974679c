import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { UsermockError, UsermockServer, UsermockSession, connect } from "../src/usermock";

const CLIENT = "aa7cf840-9ca9-46a3-9778-9015d6580d50";
const USER = "a1d97031-04e2-4907-a249-093f7436207b";
const ENGINEERING = "d1a2b3c4-e5f6-7890-abcd-ef1234567890";
const AUTH = { Authorization: "Bearer activity-admin" };

const server = connect();
let session: UsermockSession;

beforeEach(() => {
  session = server.session();
});
afterEach(async () => {
  await session.reset();
});

async function userPath(): Promise<string> {
  const base = await server.apiBase("activity");
  return `${base.slice(server.baseUrl.length)}/clients/${CLIENT}/users/${USER}`;
}

describe("usermock from Vitest", () => {
  it("gives the README's base URL for a vendor", async () => {
    expect(await server.apiBase("relesys")).toBe(`${server.baseUrl}/relesys/api/v1.3`);
    await expect(server.apiBase("nope")).rejects.toThrow(UsermockError);
  });

  it("keeps one test's writes in its own session", async () => {
    const path = await userPath();
    const patched = await session.request("PATCH", path, { departments: [] }, AUTH);
    expect(patched.status).toBe(200);
    const other = await server.session().request("GET", path, undefined, AUTH);
    expect(other.json<{ departments: unknown[] }>().departments.length).toBeGreaterThan(0);
    const mine = await session.request("GET", path, undefined, AUTH);
    expect(mine.json<{ departments: unknown[] }>().departments).toEqual([]);
  });

  it("resets a session to the fixtures", async () => {
    const path = await userPath();
    await session.request("PATCH", path, { departments: [] }, AUTH);
    await session.reset();
    const after = await session.request("GET", path, undefined, AUTH);
    const ids = after.json<{ departments: { id: string }[] }>().departments.map((d) => d.id);
    expect(ids).toContain(ENGINEERING);
  });

  it("activates a scenario for the session only", async () => {
    await session.activate("activity-user-not-found");
    const path = await userPath();
    expect((await session.request("GET", path, undefined, AUTH)).status).toBe(404);
    expect((await server.session().request("GET", path, undefined, AUTH)).status).toBe(200);
    await expect(session.activate("activity-nope")).rejects.toThrow(/no scenario is named 'activity-nope'/);
  });

  it("verifies what the session sent", async () => {
    const path = await userPath();
    await session.request("PATCH", path, { departments: [ENGINEERING] }, AUTH);
    await session.expect(1, { vendor: "activity", method: "PATCH" });
    expect(await session.count({ vendor: "activity", method: "GET" })).toBe(0);
    const [sent] = await session.requests({ vendor: "activity", method: "PATCH" });
    expect(sent.json).toEqual({ departments: [ENGINEERING] });
    await expect(session.expect(2, { vendor: "activity", method: "PATCH" })).rejects.toThrow(/expected 2/);
  });

  it("starts a server of its own with an admin token", async () => {
    const own = await UsermockServer.start({ adminToken: "s3cret" });
    try {
      expect((await own.request("GET", "/__admin/health")).status).toBe(401);
      expect((await own.admin("GET", "/__admin/health")).json<{ status: string }>().status).toBe("ok");
    } finally {
      await own.stop();
    }
  });
});
