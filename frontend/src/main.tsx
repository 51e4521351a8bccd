import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import "./index.css";
import { App } from "./App";
import { loadConfig } from "@/api/config";
import { installApi } from "@/api/instance";

const root = createRoot(document.getElementById("root")!);

loadConfig()
  .then((config) => {
    installApi(config);
    root.render(
      <StrictMode>
        <App />
      </StrictMode>,
    );
  })
  .catch((e: unknown) => {
    root.render(
      <p role="alert" style={{ padding: 24, fontFamily: "system-ui" }}>
        The console could not start: {e instanceof Error ? e.message : String(e)}
      </p>,
    );
  });
