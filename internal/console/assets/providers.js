import { session, showError } from "./api.js";

session().catch(showError);
