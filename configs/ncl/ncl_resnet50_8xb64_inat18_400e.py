# NCL (Li et al., CVPR 2022), 3 x ResNet-50 on iNaturalist 2018, the official run (Bazinga699/NCL
# config/iNat18/inat18_NCL.yaml): NCLLoss HCM_N 2442, NBOD factor 0.6, cosine classifiers x 32 with bias;
# 8 GPUs x 64 (DDP, SyncBN), SGD nesterov lr 0.2, momentum 0.9, weight decay 2e-4, 400 epochs of cosine annealing to
# 1e-4, no warm-up, no MoCo branch; the "randcls" view as ImageNet-LT. tools/dist_train.sh THIS_CONFIG 8
_base_ = ['./_base_/ncl_resnet50.py', '../_base_/datasets/inat18.py', '../_base_/datasets/paco_augmentation.py',
          '../_base_/default_runtime_cls.py']
max_epochs = 400
model = dict(num_classes={{_base_.num_classes}}, cos_scale=32.0,
             loss=dict(class_stats={{_base_.class_stats}}, hcm_n=2442))
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
auto_scale_lr = dict(base_batch_size=512)
