import { ApiClient, apiBase } from "./api";
import { mountDashboard } from "./app";
import "./styles.css";

const root = document.getElementById("app");
if (root) mountDashboard(root, new ApiClient(apiBase(import.meta.env.VITE_API_URL)));
