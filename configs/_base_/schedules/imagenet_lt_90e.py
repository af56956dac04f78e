# ImageNet-LT joint training, the classifier-balancing recipe (Kang et al., ICLR 2020,
# config/ImageNet_LT/feat_uniform.yaml): SGD momentum 0.9, weight decay 5e-4, lr 0.2 for a total batch of 512
# (8 GPUs x 64), cosine annealing to 0 stepped once per epoch, 90 epochs. Pair with ../datasets/imagenet_lt.py and
# ../default_runtime_cls.py (or mmpretrain::_base_/default_runtime.py).
max_epochs = 90
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.2, momentum=0.9, weight_decay=5e-4))
param_scheduler = dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=0.0, by_epoch=True, begin=0,
                       end=max_epochs)
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=10)
val_cfg = dict()
test_cfg = dict()
# `tools/train.py --auto-scale-lr` rescales lr linearly when the total batch differs from 512
auto_scale_lr = dict(base_batch_size=512)
