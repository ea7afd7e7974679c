import { usermockGlobalSetup } from "../src/usermock";

export default () => usermockGlobalSetup();
