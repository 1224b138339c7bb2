// The seed's VideoConsultationScreen, written with consult-client/react. The seed polled with
// useEffect + setInterval (overlapping requests on a slow network, a token read from AsyncStorage
// by hand at every tick, no cleanup of a request in flight), refreshed the token itself and joined
// the room with socket.io-client. Here each concern is one hook: the session polled every 5 s
// (never overlapping, stopped on unmount or when it ends, paused in the background), the room
// joined with a fresh token at every (re)connect and left on unmount, the sign-in's state.
import { Button, StyleSheet, Text, View } from "react-native";
import { useConsultSession, useSessionDetails, useVideoRoom } from "consult-client/react";

export function VideoConsultationScreen({ sessionId, userId, role = "PATIENT", intervalMs = 5000, onLeave }) {
  const { signedIn, refreshing, lastError } = useConsultSession();
  const session = useSessionDetails(sessionId, { intervalMs });
  // Join the room once the session says which it is; leave it when the session is over.
  const roomId = session.ended ? undefined : session.data?.room_id;
  const room = useVideoRoom(sessionId, { roomId, userId, role });

  if (!signedIn) {
    return (
      <View style={styles.screen}>
        <Text testID="signed-out">Signed out{lastError ? ` (${lastError.code})` : ""}</Text>
      </View>
    );
  }
  const status = session.data?.status ?? "loading";
  return (
    <View style={styles.screen} testID="consultation">
      <Text style={styles.title}>Consultation {sessionId}</Text>
      <Text testID="status">{status}</Text>
      {session.ended ? <Text testID="ended">Consultation over: {session.endReason}</Text> : null}
      {session.error ? <Text testID="poll-error">Reconnecting… ({session.error.code})</Text> : null}
      {session.paused ? <Text testID="paused">Paused in the background</Text> : null}
      <Text testID="room">{room.state}</Text>
      {room.participants.map((p) => (
        <Text key={p.user_id} testID={`participant-${p.user_id}`}>
          {p.name} ({p.role})
        </Text>
      ))}
      {refreshing ? <Text testID="refreshing">Refreshing the session…</Text> : null}
      {onLeave ? <Button title="Leave" onPress={onLeave} /> : null}
    </View>
  );
}

const styles = StyleSheet.create({
  screen: { flex: 1, padding: 24, justifyContent: "center", backgroundColor: "#fff" },
  title: { fontSize: 20, fontWeight: "600", marginBottom: 12 },
});
