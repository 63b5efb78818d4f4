/**
 * The command registry: a static list, so the bundler and tsc see every command and a contract test can walk
 * them. A command is listed only when it really works (podman treats `R checkpoint --help` exit 0 as support).
 */
import type { Command } from '../command.js';
import { state } from './state.js';
import { list } from './list.js';
import { start } from './start.js';
import { kill } from './kill.js';
import { del } from './delete.js';
import { create } from './create.js';
import { run } from './run.js';
import { spec } from './spec.js';
import { features } from './features.js';
import { explain } from './explain.js';
import { update } from './update.js';
import { pause } from './pause.js';
import { resume } from './resume.js';
import { ps } from './ps.js';
import { events } from './events.js';
import { exec } from './exec.js';

export const commands: readonly Command[] = [create, start, run, state, list, kill, del, spec, features, explain, update, pause, resume, ps, events, exec];
