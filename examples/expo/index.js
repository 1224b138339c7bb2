import { registerRootComponent } from "expo";

import App from "./App";

// AppRegistry.registerComponent("main", () => App), in Expo Go and in a native build alike.
registerRootComponent(App);
