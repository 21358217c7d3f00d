// The demo shop: a tiny single-page app (History API navigation) that embeds the real
// tracking snippet. Every product name and user id is written with textContent, never HTML,
// because one product name is deliberately an HTML injection attempt.
(function () {
  'use strict';
  // The contract's queue stub (kept out of an inline <script> so a strict CSP can apply):
  // calls made before the snippet loads are replayed by it.
  window.cs = window.cs || function () { (window.cs.q = window.cs.q || []).push(arguments); };
  var PRODUCTS = [
    { id: 'mug', name: 'Enamel mug', price: 14 },
    { id: 'tee', name: 'Organic tee', price: 25 },
    { id: 'cap', name: 'Field cap', price: 19 },
    { id: 'tricky', name: '<img src=x onerror=alert(1)>', price: 1 },
  ];
  var cart = [];
  var view = document.getElementById('view');

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { node.append(c); });
    return node;
  }
  function link(href, text) {
    return el('a', { href: href, 'data-nav': '' }, [text]);
  }
  function productById(id) {
    return PRODUCTS.find(function (p) { return p.id === id; });
  }
  function addToCart(product) {
    cart.push(product);
    document.getElementById('cart-count').textContent = String(cart.length);
    window.cs('track', 'add_to_cart', { product: product.id, price: product.price });
  }

  var routes = {
    home: function () {
      return ['Demo shop', [
        el('h1', {}, ['Welcome to the demo shop']),
        el('p', {}, ['Browse the ', link('/demo/products', 'products'), ', add a few to the cart and check out.']),
        el('button', { type: 'button', id: 'hero-cta', 'data-go': '/demo/products' }, ['Shop now']),
      ]];
    },
    products: function () {
      var items = PRODUCTS.map(function (p) {
        var add = el('button', { type: 'button', 'data-add': p.id }, ['Add to cart']);
        return el('li', { class: 'product' }, [
          link('/demo/products/' + p.id, p.name),
          el('span', { class: 'price' }, ['€' + p.price]),
          add,
        ]);
      });
      return ['Products · Demo shop', [el('h1', {}, ['Products']), el('ul', { class: 'grid' }, items)]];
    },
    product: function (id) {
      var p = productById(id);
      if (!p) return routes.notFound();
      return [p.name + ' · Demo shop', [
        el('h1', {}, [p.name]),
        el('p', { class: 'price' }, ['€' + p.price]),
        el('button', { type: 'button', 'data-add': p.id, id: 'add-to-cart' }, ['Add to cart']),
        el('p', {}, [link('/demo/products', '← All products')]),
      ]];
    },
    cart: function () {
      var list = cart.length
        ? el('ul', {}, cart.map(function (p) { return el('li', {}, [p.name + ' — €' + p.price]); }))
        : el('p', { class: 'muted' }, ['Your cart is empty.']);
      return ['Cart · Demo shop', [
        el('h1', {}, ['Cart']),
        list,
        el('button', { type: 'button', id: 'checkout', 'data-checkout': '' }, ['Check out']),
      ]];
    },
    done: function () {
      return ['Thank you · Demo shop', [el('h1', {}, ['Thank you!']), el('p', {}, [link('/demo/', 'Back to the shop')])]];
    },
    notFound: function () {
      return ['Not found · Demo shop', [el('h1', {}, ['Page not found']), link('/demo/', 'Home')]];
    },
  };

  function route(path) {
    var parts = path.replace(/^\/demo\/?/, '').split('/').filter(Boolean);
    if (parts.length === 0) return routes.home();
    if (parts[0] === 'products' && parts.length === 1) return routes.products();
    if (parts[0] === 'products' && parts.length === 2) return routes.product(decodeURIComponent(parts[1]));
    if (parts[0] === 'cart') return routes.cart();
    if (parts[0] === 'thanks') return routes.done();
    return routes.notFound();
  }

  function render() {
    var result = route(window.location.pathname);
    document.title = result[0];
    view.replaceChildren.apply(view, result[1]);
  }

  function navigate(href) {
    var url = new URL(href, window.location.href);
    if (url.origin !== window.location.origin) return false;
    window.history.pushState({}, '', url.pathname + url.search);
    render();
    view.focus();
    return true;
  }

  document.addEventListener('click', function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    var nav = target.closest('a[data-nav]');
    if (nav && !event.metaKey && !event.ctrlKey && navigate(nav.getAttribute('href'))) event.preventDefault();
    var go = target.closest('[data-go]');
    if (go) navigate(go.getAttribute('data-go'));
    var add = target.closest('[data-add]');
    if (add) addToCart(productById(add.getAttribute('data-add')));
    if (target.closest('[data-checkout]')) {
      window.cs('track', 'checkout', { items: cart.length });
      cart = [];
      document.getElementById('cart-count').textContent = '0';
      navigate('/demo/thanks');
    }
  });
  window.addEventListener('popstate', render);

  function identify(userId) {
    if (!userId) return;
    document.getElementById('user-id').value = userId;
    window.cs('identify', userId);
  }
  document.getElementById('sign-in').addEventListener('submit', function (event) {
    event.preventDefault();
    identify(document.getElementById('user-id').value.trim());
  });

  // `?user=` signs in before the snippet loads, so even the first page view carries the id.
  identify(new URLSearchParams(window.location.search).get('user'));
  render();

  fetch('/config.json')
    .then(function (r) { return r.ok ? r.json() : Promise.reject(new Error('config ' + r.status)); })
    .then(function (config) {
      var script = document.createElement('script');
      script.defer = true;
      script.src = String(config.collectorUrl).replace(/\/+$/, '') + '/snippet.js';
      script.setAttribute('data-site', 'demo-shop');
      script.onload = function () {
        document.documentElement.setAttribute('data-snippet', 'loaded');
      };
      script.onerror = function () {
        document.getElementById('snippet-status').textContent = 'The tracking snippet could not be loaded from ' + script.src + '.';
      };
      document.head.append(script);
    })
    .catch(function (error) {
      document.getElementById('snippet-status').textContent = 'Tracking is off: ' + error.message;
    });
})();
