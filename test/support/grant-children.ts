/**
 * The per-entry children a `Grant` component declares, as the engine receives them (Pulumi's mocks: the component
 * really runs, and each child's registration is captured), so a suite can drive those children's providers itself.
 */
import * as pulumi from "@pulumi/pulumi";

/** One child: its resource kind (`OpnsenseAliasEntry`, `FortigateFeedEntry`, …), logical name and inputs. */
export interface GrantChildInputs {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
}

const captured: { type: string; name: string; inputs: Record<string, unknown> }[] = [];
let mocked = false;
let serial = 0;

/** `pulumi-nodejs:dynamic/fortigate:FeedEntry` → `FortigateFeedEntry`. */
const kindOf = (type: string): string => {
  const m = /^pulumi-nodejs:dynamic\/([a-z]+):(\w+)$/.exec(type);
  return m ? `${m[1]![0]!.toUpperCase()}${m[1]!.slice(1)}${m[2]}` : type;
};

/** The children `new Grant(<name>, args)` registers (the name is made unique per call: suites run concurrently). */
export async function grantChildren(name: string, args: Record<string, unknown>): Promise<GrantChildInputs[]> {
  if (!mocked) {
    pulumi.runtime.setMocks(
      {
        newResource: (a) => {
          captured.push({ type: a.type, name: a.name, inputs: a.inputs as Record<string, unknown> });
          return { id: `${a.name}-id`, state: a.inputs };
        },
        call: () => ({}),
      },
      "project",
      "stack",
      false,
    );
    mocked = true;
  }
  const { Grant } = require("../../provider/grant-component") as typeof import("../../provider/grant-component");
  const unique = `${name}${++serial}`;
  const g = new Grant(unique, args as never);
  await new Promise<void>((r) => g.granted.apply(() => r()));
  // Registrations reach the mock monitor asynchronously: wait until every child is captured.
  for (let i = 0; i < 100 && captured.filter((c) => c.name.startsWith(`${unique}-`)).length < g.children.length; i++)
    await new Promise((r) => setTimeout(r, 10));
  const mine = captured.filter((c) => c.name.startsWith(`${unique}-`));
  if (mine.length !== g.children.length) throw new Error(`Grant ${unique}: ${g.children.length} children declared, ${mine.length} registered`);
  return mine.map((c) => {
    const { __provider: _p, ...inputs } = c.inputs;
    return { type: kindOf(c.type), name: c.name, inputs };
  });
}
