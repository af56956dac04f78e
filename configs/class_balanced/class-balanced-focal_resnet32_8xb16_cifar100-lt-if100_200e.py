# Class-balanced sigmoid focal loss (Cui et al., CVPR 2019), beta 0.9999, gamma 1.0, the
# classifier bias initialised to -log(C - 1) = -log(99) and kept out of weight decay, as the official code.
# ResNet-32 on CIFAR-100-LT (imbalance factor 100), the LDAM-DRW 200-epoch recipe of configs/baseline.
# tools/dist_train.sh THIS_CONFIG 8   (or one GPU: --cfg-options train_dataloader.batch_size=128)
_base_ = ['../_base_/models/resnet32_cifar_lt.py', '../_base_/datasets/cifar100_lt.py',
          '../_base_/schedules/cifar_lt_200e.py', '../_base_/default_runtime_cls.py']
model = dict(head=dict(
    loss=dict(_delete_=True, type='ClassBalancedLoss', class_stats={{_base_.class_stats}}, beta=0.9999,
              loss_type='focal', gamma=1.0),
    init_cfg=dict(type='Normal', layer='Linear', std=0.01, bias=-4.59511985013459)))
optim_wrapper = dict(paramwise_cfg=dict(bias_decay_mult=0.0))
