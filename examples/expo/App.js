// The example app: one ConsultClient for the app, the hooks' provider wired to AppState, and the
// consultation screen. Sign-in here is the consult-stub's dev endpoint (a real app has its own).
import { useState } from "react";
import { AppState, Button, StyleSheet, Text, View } from "react-native";
import { ConsultProvider, useConsultClient, useConsultSession } from "consult-client/react";
import { CONSULT_URL, createConsultClient } from "./src/consult";
import { VideoConsultationScreen } from "./src/VideoConsultationScreen";

const client = createConsultClient();
const SESSION_ID = process.env.EXPO_PUBLIC_CONSULT_SESSION ?? "demo";
const USER_ID = process.env.EXPO_PUBLIC_CONSULT_USER ?? "patient-1";

export default function App() {
  return (
    <ConsultProvider client={client} appState={AppState}>
      <Main />
    </ConsultProvider>
  );
}

function Main() {
  const { loaded, signedIn } = useConsultSession();
  const [inCall, setInCall] = useState(true);
  if (!loaded) return <Centered text="Loading…" />;
  if (!signedIn) return <DevSignIn />;
  if (!inCall) return <Centered text="You left the consultation." />;
  return <VideoConsultationScreen sessionId={SESSION_ID} userId={USER_ID} onLeave={() => setInCall(false)} />;
}

/** consult-stub's dev sign-in (`--dev`): a token for USER_ID, then `setSession`. */
function DevSignIn() {
  const client = useConsultClient();
  const [error, setError] = useState(null);
  const signIn = async () => {
    try {
      const response = await fetch(`${CONSULT_URL}/api/dev/token`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ user_id: USER_ID }),
      });
      await client.setSession(await response.json());
    } catch (e) {
      setError(String(e?.message ?? e));
    }
  };
  return (
    <View style={styles.centered}>
      <Button title={`Sign in as ${USER_ID}`} onPress={signIn} />
      {error ? <Text>{error}</Text> : null}
    </View>
  );
}

const Centered = ({ text }) => (
  <View style={styles.centered}>
    <Text>{text}</Text>
  </View>
);

const styles = StyleSheet.create({
  centered: { flex: 1, alignItems: "center", justifyContent: "center", backgroundColor: "#fff" },
});
