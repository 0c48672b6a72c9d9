// Imported first: zod would probe for eval to compile its checks, and the panel's CSP forbids eval (the probe alone
// shows up as a CSP violation), so it must not even try.
import * as z from 'zod';

z.config({ jitless: true });
