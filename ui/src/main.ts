import { ApiClient, apiBase, TOKEN_KEY } from "./api";
import { mountDashboard } from "./app";
import "./styles.css";

const root = document.getElementById("app");
const token = () => sessionStorage.getItem(TOKEN_KEY);
if (root) {
  const api = new ApiClient(apiBase(import.meta.env.VITE_API_URL), undefined, token);
  mountDashboard(root, api, (value) => sessionStorage.setItem(TOKEN_KEY, value));
}
