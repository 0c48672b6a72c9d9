// The review webview's entry: the components it uses, its stylesheet, and the app wired to the host.
import './jitless';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import './review.css';
import { ReviewApp } from './app';
import { connectHost } from './host';

const root = document.getElementById('app');
if (root) new ReviewApp(root, connectHost()).start();
