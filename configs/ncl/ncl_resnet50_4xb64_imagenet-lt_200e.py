# NCL (Li et al., CVPR 2022), 3 x ResNet-50 on ImageNet-LT, the official run (Bazinga699/NCL
# config/ImageNet_LT/ImageNet_LT.yaml, lib/dataset/others.py, README: 4 GPUs): NCLLoss HCM_N 300, NBOD factor 0.6,
# cosine classifiers x 16 with bias; 4 GPUs x 64 (DDP, SyncBN), SGD nesterov lr 0.2, momentum 0.9, weight decay 2e-4,
# 200 epochs of cosine annealing to 1e-4, no warm-up, no MoCo branch; the hard-coded "randcls" view (crop 224, flip,
# jitter 0.4, RandAugment n2 m10 mstd 0.5) of ../_base_/datasets/paco_augmentation.py. Network:
# ./_base_/ncl_resnet50.py. tools/dist_train.sh THIS_CONFIG 4
_base_ = ['./_base_/ncl_resnet50.py', '../_base_/datasets/imagenet_lt.py', '../_base_/datasets/paco_augmentation.py',
          '../_base_/default_runtime_cls.py']
max_epochs = 200
model = dict(num_classes={{_base_.num_classes}}, loss=dict(class_stats={{_base_.class_stats}}, hcm_n=300))
# the shared view list as one transform (a base variable cannot be spliced into a list)
train_pipeline = [dict(type='LoadImageFromFile'),
                  dict(type='RandomApply', transforms={{_base_.randcls_view}}, prob=1.0),
                  dict(type='PackInputs')]
train_dataloader = dict(batch_size=64, drop_last=True, dataset=dict(pipeline=train_pipeline))
sync_bn = 'torch'  # the official DDP path converts every BatchNorm to SyncBN
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.2, momentum=0.9, weight_decay=2e-4, nesterov=True))
param_scheduler = dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=1e-4, by_epoch=True, begin=0,
                       end=max_epochs)
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=10)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=256)
