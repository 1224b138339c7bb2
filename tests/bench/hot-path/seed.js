// A faithful re-implementation of the seed's JavaScript helpers (React Native, AsyncStorage),
// for the hot-path benchmark only. Storage is localStorage here (synchronous, so no `await` on
// reads: that only makes the seed faster than it was). getValidToken() reads the token and
// `tokenExpiresAt` from storage on every call, parses the expiry with `new Date(expiresAt)`,
// compares it with Date.now() + 5 min, and returns the token or refreshes.

let API_BASE_URL = "";

export function configureSeed(baseUrl) {
  API_BASE_URL = baseUrl;
}

export async function refreshAuthToken() {
  const token = localStorage.getItem("authToken");
  if (!token) {
    throw new Error("No token available");
  }
  const response = await fetch(`${API_BASE_URL}/api/video/auth/refresh-token`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
  });
  if (!response.ok) {
    throw new Error("Token refresh failed");
  }
  const data = await response.json();
  localStorage.setItem("authToken", data.access_token);
  localStorage.setItem("tokenExpiresAt", data.expires_at);
  return data.access_token;
}

export async function getValidToken() {
  const token = localStorage.getItem("authToken");
  const expiresAt = localStorage.getItem("tokenExpiresAt");
  if (!token || !expiresAt) {
    return null;
  }
  const expiryDate = new Date(expiresAt);
  const fiveMinutesFromNow = Date.now() + 5 * 60 * 1000;
  if (expiryDate.getTime() < fiveMinutesFromNow) {
    return await refreshAuthToken();
  }
  return token;
}
