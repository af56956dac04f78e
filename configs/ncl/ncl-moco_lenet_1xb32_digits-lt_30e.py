# NCL with its MoCo branch (NCLMoCoClassifier) on Digits-LT (CPU demo): configs/ncl's Digits-LT recipe, two views
# (view 1 the classification view, view 2 the key view) and per-expert MoCo with the official CIFAR settings
# (d 64, T 0.2, m 0.999, CON_RATIO 1) except a queue of 512 keys (a multiple of the batch 32).
_base_ = ['./ncl_lenet_1xb32_digits-lt_30e.py']
model = dict(type='NCLMoCoClassifier', moco_dim=64, queue_size=512, temperature=0.2, momentum=0.999, con_ratio=1.0)
